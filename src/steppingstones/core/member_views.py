"""Study managers manage who is in their study, with which role, and reset passwords."""

from __future__ import annotations

from typing import Any

from axes.utils import reset as reset_lockout
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from steppingstones.core import audit
from steppingstones.core.forms import MembershipForm, NewMemberForm, SetPasswordForm
from steppingstones.core.models import AccountState, Membership
from steppingstones.core.policy import Access, Role, study_view


def _member(access: Access, member_id: int) -> Membership:
    membership = access.study.memberships.select_related("user").filter(pk=member_id).first()
    if membership is None:
        raise Http404
    return membership


@study_view("members:manage")
def member_list(request: HttpRequest, access: Access) -> HttpResponse:
    members = access.study.memberships.select_related("user").prefetch_related("sites")
    return render(request, "core/members.html", {"members": members})


@require_http_methods(["GET", "POST"])
@study_view("members:manage")
def member_add(request: HttpRequest, access: Access) -> HttpResponse:
    form = NewMemberForm(request.POST or None, study=access.study)
    users = get_user_model().objects
    existing = users.filter(username=request.POST.get("username", "")).first()
    # An existing account joins with its own password; a new one needs a temporary password.
    password_form = SetPasswordForm(request.POST or None, user=None)
    if existing is not None:
        password_form.fields["new_password"].required = False
    if request.method == "POST" and form.is_valid() and password_form.is_valid():
        username = form.cleaned_data["username"]
        with transaction.atomic():
            user = users.filter(username=username).first()
            if user is None:
                user = users.create_user(
                    username=username,
                    email=form.cleaned_data.get("email") or "",
                    password=password_form.cleaned_data["new_password"],
                )
                AccountState.objects.create(user=user, must_change_password=True)
            if Membership.objects.filter(user=user, study=access.study).exists():
                form.add_error("username", "This person is already a member of the study.")
            else:
                membership = Membership.objects.create(
                    user=user,
                    study=access.study,
                    role=form.cleaned_data["role"],
                    can_view_identifiers=form.cleaned_data["can_view_identifiers"],
                )
                membership.sites.set(form.cleaned_data["sites"])
                messages.success(request, f"{username} has joined the study.")
                return redirect("members", study_slug=access.study.slug)
    return render(request, "core/member_add.html", {"form": form, "password_form": password_form})


@require_http_methods(["GET", "POST"])
@study_view("members:manage")
def member_edit(request: HttpRequest, access: Access, member_id: int) -> HttpResponse:
    membership = _member(access, member_id)
    form = MembershipForm(request.POST or None, instance=membership, study=access.study)
    if request.method == "POST" and form.is_valid():
        is_last_manager = (
            membership.role == Role.STUDY_MANAGER
            and form.cleaned_data["role"] != Role.STUDY_MANAGER
            and access.study.memberships.filter(role=Role.STUDY_MANAGER).count() == 1
        )
        if is_last_manager:
            form.add_error("role", "A study needs at least one study manager.")
        else:
            form.save()
            messages.success(request, f"{membership.user.get_username()} updated.")
            return redirect("members", study_slug=access.study.slug)
    return render(request, "core/member_edit.html", {"membership": membership, "form": form})


def _managed_everywhere(access: Access, user: Any) -> bool:
    """A manager may reset only users whose every study they manage (no reach into others)."""
    studies = set(Membership.objects.filter(user=user).values_list("study_id", flat=True))
    managed = set(
        Membership.objects.filter(user=access.membership.user, role=Role.STUDY_MANAGER).values_list(
            "study_id", flat=True
        )
    )
    return studies <= managed


@require_http_methods(["GET", "POST"])
@study_view("members:manage")
def member_password(request: HttpRequest, access: Access, member_id: int) -> HttpResponse:
    membership = _member(access, member_id)
    user = membership.user
    # Platform administrators are out of a study manager's reach.
    allowed = _managed_everywhere(access, user) and not (user.is_superuser or user.is_staff)
    form = SetPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and allowed and form.is_valid():
        with transaction.atomic():
            user.set_password(form.cleaned_data["new_password"])
            user.save()
            AccountState.objects.update_or_create(
                user=user, defaults={"must_change_password": True}
            )
            reset_lockout(username=user.get_username())
            audit.record("password.reset", study=access.study, obj=user)
        messages.success(request, f"New temporary password set for {user.get_username()}.")
        return redirect("members", study_slug=access.study.slug)
    return render(
        request,
        "core/member_password.html",
        {"membership": membership, "form": form, "allowed": allowed},
    )
