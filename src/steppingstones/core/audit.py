"""Writing the audit trail.

Who did something comes from the request (set by :class:`AuditContextMiddleware`) or, on the
command line, from :func:`acting_as`. Changes to the models in :data:`AUDITED_MODELS` are
recorded automatically with before/after values of the fields that changed; fields named in
:data:`SECRET_FIELDS` are recorded as changed but never with their values.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.http import HttpRequest


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    ip_address: str | None = None
    user_agent: str = ""


SYSTEM = Actor(user_id=None, name="system")
_current_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("actor", default=SYSTEM)
# While a backup is restored, rows arrive with their own history: nothing new is recorded.
_suspended: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_suspended", default=False)

# model label -> fields whose values never enter the trail
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "auth.user": frozenset({"password"}),
    "core.identityrecord": frozenset({"sealed"}),
    "otp_totp.totpdevice": frozenset({"key"}),
}
# Models with secret fields whose str() is still safe to record (a username, a pseudonym).
_NAMED = frozenset({"auth.user", "core.identityrecord", "otp_totp.totpdevice", "cohort.woman"})
AUDITED_MODELS = (
    "core.study",
    "core.site",
    "core.membership",
    "core.participant",
    "core.accountstate",
    "auth.user",
    "otp_totp.totpdevice",
    "auth.group",
)
IGNORED_FIELDS = frozenset(
    {
        "last_login",
        "updated_at",
        "created_at",
        "throttling_failure_timestamp",
        "throttling_failure_count",
        "last_t",
        "last_used_at",
    }
)


def actor_from_request(request: HttpRequest) -> Actor:
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    return Actor(
        user_id=user.pk if authenticated and user else None,
        name=user.get_username() if authenticated and user else "anonymous",
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def current_actor() -> Actor:
    return _current_actor.get()


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def record(
    action: str,
    *,
    study: Any = None,
    obj: Any = None,
    changes: dict[str, Any] | None = None,
    actor: Actor | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> None:
    from steppingstones.core.models import AuditEvent

    if _suspended.get():
        return
    who = actor or current_actor()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if not object_repr and object_type in SECRET_FIELDS and object_type not in _NAMED:
            object_repr = f"{obj._meta.verbose_name} {obj.pk}"
        object_repr = object_repr or str(obj)[:200]
    AuditEvent.objects.create(
        actor_id=who.user_id,
        actor_name=who.name,
        study_id=getattr(study, "pk", study),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        changes=changes or {},
        ip_address=who.ip_address,
        user_agent=who.user_agent,
    )


def _comparable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def _field_values(instance: models.Model) -> dict[str, Any]:
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in IGNORED_FIELDS:
            continue
        values[field.name] = _comparable(getattr(instance, field.attname))
    return values


def _study_of(instance: models.Model) -> Any:
    from steppingstones.core.models import Study

    if isinstance(instance, Study):
        return instance.pk
    try:
        return getattr(instance, "study_id", None)
    except models.ObjectDoesNotExist:  # a parent already deleted in the same cascade
        return None


def _diff(label: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    secret = SECRET_FIELDS.get(label, frozenset())
    changes: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        changes[name] = {"changed": True} if name in secret else {"before": old, "after": new}
    return changes


def _remember_before(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw") or instance.pk is None:
        return
    previous = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = _field_values(previous) if previous else None  # type: ignore[attr-defined]


def _after_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    label = sender._meta.label_lower
    before = None if created else getattr(instance, "_audit_before", None)
    changes = _diff(label, before or {}, _field_values(instance))
    if not created and not changes:
        return
    record(
        f"{sender._meta.model_name}.{'create' if created else 'change'}",
        study=_study_of(instance),
        obj=instance,
        changes=changes,
    )


def _after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    label = sender._meta.label_lower
    # A model with free text is named by type and id only: its str() may quote that text.
    shown = f"{sender._meta.verbose_name} {instance.pk}" if label in SECRET_FIELDS else ""
    record(
        f"{sender._meta.model_name}.delete",
        study=_study_of(instance),
        obj=instance,
        object_repr=shown,
    )


def _relation_changed(
    sender: Any,
    instance: models.Model,
    action: str,
    pk_set: set[int] | None,
    reverse: bool,
    model: type[models.Model],
    **kwargs: Any,
) -> None:
    """Sites of a membership, groups and permissions of a user: who gained or lost what."""
    relation = str(sender._meta.model_name).removeprefix(f"{instance._meta.model_name}_")
    if action == "pre_clear":
        # The ids are gone by post_clear; remember them now.
        instance._audit_cleared = _current_related(sender, instance)  # type: ignore[attr-defined]
        return
    if action == "post_clear":
        removed = getattr(instance, "_audit_cleared", [])
        changes = {"removed": removed}
    elif action in ("post_add", "post_remove") and pk_set:
        changes = {"added" if action == "post_add" else "removed": sorted(pk_set)}
    else:
        return
    record(
        f"{instance._meta.model_name}.{relation}",
        study=_study_of(instance),
        obj=instance,
        changes=changes,
    )


def _current_related(through: Any, instance: models.Model) -> list[int]:
    source, target = _through_columns(through, type(instance))
    return sorted(through.objects.filter(**{source: instance.pk}).values_list(target, flat=True))


def _through_columns(through: Any, source_model: type[models.Model]) -> tuple[str, str]:
    source = target = ""
    for field in through._meta.concrete_fields:
        if not field.is_relation:
            continue
        if field.related_model is source_model and not source:
            source = field.attname
        else:
            target = field.attname
    return source, target


def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record("login", actor=actor_from_request(request), obj=user)


def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record("logout", actor=actor_from_request(request), obj=user)


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    attempted = str(credentials.get("username", ""))[:150]
    actor = actor_from_request(request) if request is not None else SYSTEM
    # People sometimes type their password into the username box: only a name that belongs to
    # an account is written down.
    known = get_user_model().objects.filter(username=attempted).first()
    record(
        "login.failed",
        actor=actor,
        object_type="auth.user",
        object_id=str(known.pk) if known else "",
        object_repr=attempted if known else "(unknown username)",
        changes={"username": attempted} if known else {"username": None},
    )


def track(*labels: str, free_text: dict[str, set[str]] | None = None) -> None:
    """Record every create, change and delete of these models (``app_label.model_name``).

    ``free_text`` names, per model, fields whose values never enter the trail (only that they
    changed): text a person typed may hold a name or an address, and the trail cannot be erased.
    """
    from django.apps import apps

    for label, names in (free_text or {}).items():
        SECRET_FIELDS[label] = SECRET_FIELDS.get(label, frozenset()) | frozenset(names)
    for label in labels:
        app_label, model_name = label.split(".")
        model = apps.get_model(app_label, model_name)
        uid = f"audit-{label}"
        pre_save.connect(_remember_before, sender=model, dispatch_uid=f"{uid}-pre")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}-post")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}-delete")


def connect_signals() -> None:
    from django.apps import apps

    track(*AUDITED_MODELS)
    membership = apps.get_model("core", "membership")
    user_model = get_user_model()
    for through in (
        membership.sites.through,
        user_model.groups.through,
        user_model.user_permissions.through,
        apps.get_model("auth", "group").permissions.through,
    ):
        m2m_changed.connect(
            _relation_changed, sender=through, dispatch_uid=f"audit-{through._meta.label}"
        )
    user_logged_in.connect(_logged_in, dispatch_uid="audit-login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
    get_user_model()  # fail early if the user model is not installed
