from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from . import pipeline
from .inputs import UPLOAD, describe_size
from .models import IngestFailure, IngestRun

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text=(
            f"A registry file or an archive (zip, tar, gzip) of them, at most {describe_size(MAX_UPLOAD_BYTES)}; "
            f"archives may hold {UPLOAD.describe()}. Formats are recognised by content."
        )
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {describe_size(upload.size)}; uploads may be at most {describe_size(MAX_UPLOAD_BYTES)}. "
                "Load larger files with `manage.py ingest` on the server."
            )
        return upload


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
        return request.user.has_perm("ingest.add_ingestrun")

    def add_view(self, request, form_url="", extra_context=None):
        """Adding a run means uploading a file: it is ingested at once and its run's page shows the result."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            source = pipeline.Input(upload.name, lambda: upload.open("rb"), upload.size)
            run = pipeline.run([source], description=[f"upload: {upload.name}"], limits=UPLOAD)
            summary = f"Ingested {upload.name}: {run.created} created, {run.updated} updated, {run.unchanged} unchanged"
            if run.failed:
                messages.warning(request, f"{summary}, {run.failed} failed (listed below).")
            else:
                messages.success(request, f"{summary}.")
            return redirect(reverse("admin:ingest_ingestrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload registry files",
            "form": form,
            "opts": self.model._meta,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/ingest/ingestrun/upload.html", context)


@admin.register(IngestFailure)
class IngestFailureAdmin(admin.ModelAdmin):
    list_display = ["source", "position", "reason", "run"]
    list_select_related = ["run"]
    search_fields = ["source", "reason"]
    readonly_fields = ["run", "source", "position", "reason"]

    def has_add_permission(self, request):
        return False
