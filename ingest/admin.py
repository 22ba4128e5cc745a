from django.contrib import admin

from .models import IngestFailure, IngestRun


class IngestFailureInline(admin.TabularInline):
    model = IngestFailure
    extra = 0
    can_delete = False
    fields = ["source", "position", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "files", "created", "updated", "unchanged", "failed", "finished_at"]
    list_filter = ["started_at"]
    search_fields = ["sources", "failures__source", "failures__reason"]
    readonly_fields = ["started_at", "finished_at", "sources", "files", "created", "updated", "unchanged", "failed"]
    inlines = [IngestFailureInline]

    def has_add_permission(self, request):
        return False


@admin.register(IngestFailure)
class IngestFailureAdmin(admin.ModelAdmin):
    list_display = ["source", "position", "reason", "run"]
    list_select_related = ["run"]
    search_fields = ["source", "reason"]
    readonly_fields = ["run", "source", "position", "reason"]

    def has_add_permission(self, request):
        return False
