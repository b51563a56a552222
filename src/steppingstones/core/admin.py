from django.contrib import admin

from steppingstones.core.models import AuditEvent, Membership, Participant, Site, Study


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "is_synthetic", "is_archived"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["study", "code", "name", "nation"]
    list_filter = ["study"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "study", "role", "can_view_identifiers"]
    list_filter = ["study", "role"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["pseudonym", "study", "site", "kind"]
    list_filter = ["study", "kind"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "action", "object_repr"]
    list_filter = ["action"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
