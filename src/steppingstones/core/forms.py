from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from steppingstones.core.identity import Identifiers
from steppingstones.core.models import Membership, Site
from steppingstones.core.policy import Role


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\d{6}$",
        label="Six-digit code from your authenticator app",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class IdentityForm(forms.Form):
    full_name = forms.CharField(max_length=200, required=False)
    date_of_birth = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    postcode = forms.CharField(max_length=10, required=False)
    phone = forms.CharField(max_length=30, required=False)
    email = forms.EmailField(required=False)
    nhs_or_chi_number = forms.RegexField(
        regex=r"^\d{3} ?\d{3} ?\d{4}$",
        required=False,
        label="NHS or CHI number",
        error_messages={"invalid": "Ten digits, e.g. 943 476 5919."},
    )
    gp_practice = forms.CharField(max_length=200, required=False, label="GP practice")

    def identifiers(self) -> Identifiers:
        data = dict(self.cleaned_data)
        dob = data.get("date_of_birth")
        data["date_of_birth"] = dob.isoformat() if dob else ""
        return Identifiers(
            **{name: str(data.get(name) or "") for name in Identifiers.field_names()}
        )


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "sites", "can_view_identifiers"]
        widgets = {"sites": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, study: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = Site.objects.filter(study=study)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role == Role.SITE_RESEARCHER and not data.get("sites"):
            self.add_error("sites", "A site researcher needs at least one site.")
        if role != Role.SITE_RESEARCHER:
            data["sites"] = []
        if role not in (Role.RESEARCHER, Role.SITE_RESEARCHER):
            data["can_view_identifiers"] = False
        return data


class NewMemberForm(MembershipForm):
    username = forms.RegexField(regex=r"^[\w.@+-]{3,150}$", max_length=150)
    email = forms.EmailField(required=False)

    class Meta(MembershipForm.Meta):
        fields = ["username", "email", "role", "sites", "can_view_identifiers"]


class SetPasswordForm(forms.Form):
    new_password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Temporary password",
        help_text="The member must choose a new password when they next sign in.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_new_password(self) -> str:
        password = self.cleaned_data["new_password"]
        if password or self.fields["new_password"].required:
            password_validation.validate_password(password, self.user)
        return password


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="User")
    action = forms.CharField(required=False)
    since = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
