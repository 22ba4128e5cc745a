import json

from django.contrib import admin
from django.db import models

from .models import (
    Arm,
    Biospecimen,
    Condition,
    Contact,
    EligibilityCriterion,
    Identifier,
    Intervention,
    Keyword,
    Outcome,
    Site,
    SourceRecord,
    Sponsor,
    SynonymGroup,
    Trial,
)
from .search.indexing import reindex


class ChildInline(admin.TabularInline):
    extra = 0
    show_change_link = True


class ConditionInline(ChildInline):
    model = Condition
    fields = ["position", "name", "name_original", "code", "vocabulary"]


class KeywordInline(ChildInline):
    model = Keyword
    fields = ["position", "name", "name_original"]


class ArmInline(ChildInline):
    model = Arm
    fields = ["position", "label", "label_original", "type", "planned_size", "description"]


class InterventionInline(ChildInline):
    model = Intervention
    fields = ["position", "name", "name_original", "type", "arms", "description"]
    filter_horizontal = ["arms"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Offer only the arms of the trial being edited.
        trial_id = request.resolver_match.kwargs.get("object_id")
        kwargs["queryset"] = Arm.objects.filter(trial_id=trial_id) if trial_id else Arm.objects.none()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OutcomeInline(ChildInline):
    model = Outcome
    fields = ["position", "kind", "measure", "measure_original", "time_frame"]


class CriterionInline(ChildInline):
    model = EligibilityCriterion
    fields = ["position", "kind", "text", "text_original"]


class SiteInline(ChildInline):
    model = Site
    fields = ["position", "facility", "facility_original", "city", "region", "country", "status"]


class SponsorInline(ChildInline):
    model = Sponsor
    fields = ["position", "name", "name_original", "role", "agency_class"]


class ContactInline(ChildInline):
    model = Contact
    fields = ["position", "role", "name", "name_original", "phone", "email"]


class IdentifierInline(ChildInline):
    model = Identifier
    fields = ["position", "value", "type", "issuer"]


class BiospecimenInline(ChildInline):
    model = Biospecimen
    fields = ["position", "name", "name_original", "tissue", "fate"]


class SourceRecordInline(admin.TabularInline):
    model = SourceRecord
    extra = 0
    can_delete = False
    fields = ["ingested_at", "format", "parser_version", "checksum", "size", "origin"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ["registry_id", "registry", "public_title", "status", "study_type", "last_update_date"]
    list_filter = ["registry", "status", "study_type", "registration_timing", "has_dmc", "ipd_sharing"]
    search_fields = ["registry_id", "public_title", "public_title_original", "scientific_title", "acronym"]
    date_hierarchy = "registration_date"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [
        ConditionInline,
        KeywordInline,
        ArmInline,
        InterventionInline,
        OutcomeInline,
        CriterionInline,
        SiteInline,
        SponsorInline,
        ContactInline,
        IdentifierInline,
        BiospecimenInline,
        SourceRecordInline,
    ]
    fieldsets = [
        ("Identity", {"fields": ["registry", "registry_id", "source_url", "original_language"]}),
        (
            "Titles",
            {
                "fields": [
                    ("public_title", "public_title_original"),
                    ("scientific_title", "scientific_title_original"),
                    ("acronym", "acronym_original"),
                ]
            },
        ),
        (
            "Status and design",
            {
                "fields": [
                    ("status", "status_text"),
                    ("study_type", "study_type_text"),
                    ("phases", "phase_text"),
                    ("allocation", "intervention_model", "masking", "primary_purpose"),
                    ("observational_model", "time_perspective", "who_masked"),
                    ("design_text", "design_text_original"),
                    ("randomization_text", "blinding_text"),
                    ("enrollment_target", "enrollment_actual"),
                ]
            },
        ),
        (
            "Dates",
            {
                "fields": [
                    ("registration_date", "registration_date_precision", "registration_timing"),
                    ("first_posted_date", "first_posted_date_precision"),
                    ("last_update_date", "last_update_date_precision"),
                    ("start_date", "start_date_precision"),
                    ("primary_completion_date", "primary_completion_date_precision"),
                    ("completion_date", "completion_date_precision"),
                    ("recruitment_start_date", "recruitment_start_date_precision"),
                    ("recruitment_end_date", "recruitment_end_date_precision"),
                ]
            },
        ),
        (
            "Summary",
            {
                "fields": [
                    ("brief_summary", "brief_summary_original"),
                    ("description", "description_original"),
                    ("objectives", "objectives_original"),
                ]
            },
        ),
        (
            "Eligibility",
            {
                "fields": [
                    ("min_age_years", "min_age_text", "max_age_years", "max_age_text"),
                    ("sex", "sex_text", "healthy_volunteers"),
                    ("eligibility_text", "eligibility_text_original"),
                ]
            },
        ),
        (
            "Ethics, oversight and sharing",
            {
                "fields": [
                    "ethics_approved",
                    ("ethics_committee", "ethics_committee_original"),
                    ("ethics_approval_number", "ethics_approval_date", "ethics_approval_date_precision"),
                    "ethics_contact",
                    "has_dmc",
                    ("ipd_sharing", "ipd_sharing_text"),
                    ("ipd_sharing_description", "ipd_sharing_description_original"),
                    ("data_management", "data_management_original"),
                    "results_public_text",
                    "has_results",
                ]
            },
        ),
        ("Funding", {"fields": [("funding", "funding_original"), "responsible_party"]}),
        ("Other registry fields", {"fields": ["extra", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def save_related(self, request, form, formsets, change):
        # The search index and facet rows are derived from what was just edited: rebuild them.
        super().save_related(request, form, formsets, change)
        reindex([form.instance])


class TrialChildAdmin(admin.ModelAdmin):
    list_select_related = ["trial"]
    raw_id_fields = ["trial"]
    search_fields = ["trial__registry_id"]


@admin.register(Condition)
class ConditionAdmin(TrialChildAdmin):
    list_display = ["name", "name_original", "vocabulary", "trial"]
    list_filter = ["vocabulary"]
    search_fields = ["name", "name_original", "trial__registry_id"]


@admin.register(Keyword)
class KeywordAdmin(TrialChildAdmin):
    list_display = ["name", "trial"]
    search_fields = ["name", "trial__registry_id"]


@admin.register(Arm)
class ArmAdmin(TrialChildAdmin):
    list_display = ["label", "type", "planned_size", "trial"]
    list_filter = ["type"]
    search_fields = ["label", "label_original", "trial__registry_id"]


@admin.register(Intervention)
class InterventionAdmin(TrialChildAdmin):
    list_display = ["name", "type", "trial"]
    list_filter = ["type"]
    search_fields = ["name", "name_original", "trial__registry_id"]
    filter_horizontal = ["arms"]


@admin.register(Outcome)
class OutcomeAdmin(TrialChildAdmin):
    list_display = ["measure", "kind", "time_frame", "trial"]
    list_filter = ["kind"]
    search_fields = ["measure", "measure_original", "trial__registry_id"]


@admin.register(EligibilityCriterion)
class EligibilityCriterionAdmin(TrialChildAdmin):
    list_display = ["__str__", "kind", "position", "trial"]
    list_filter = ["kind"]
    search_fields = ["text", "text_original", "trial__registry_id"]


@admin.register(Site)
class SiteAdmin(TrialChildAdmin):
    list_display = ["facility", "city", "country", "status", "trial"]
    list_filter = ["country"]
    search_fields = ["facility", "facility_original", "city", "trial__registry_id"]


@admin.register(Sponsor)
class SponsorAdmin(TrialChildAdmin):
    list_display = ["name", "role", "agency_class", "trial"]
    list_filter = ["role", "agency_class"]
    search_fields = ["name", "name_original", "trial__registry_id"]


@admin.register(Contact)
class ContactAdmin(TrialChildAdmin):
    list_display = ["name", "role", "email", "trial"]
    search_fields = ["name", "name_original", "email", "trial__registry_id"]


@admin.register(Identifier)
class IdentifierAdmin(TrialChildAdmin):
    list_display = ["value", "type", "issuer", "trial"]
    list_filter = ["type"]
    search_fields = ["value", "trial__registry_id"]


@admin.register(Biospecimen)
class BiospecimenAdmin(TrialChildAdmin):
    list_display = ["name", "tissue", "fate", "trial"]
    search_fields = ["name", "name_original", "trial__registry_id"]


@admin.register(SourceRecord)
class SourceRecordAdmin(TrialChildAdmin):
    list_display = ["trial", "format", "parser_version", "size", "ingested_at"]
    list_filter = ["format", "parser_version"]
    readonly_fields = [
        "trial",
        "format",
        "checksum",
        "parser_version",
        "size",
        "origin",
        "ingested_at",
        "raw_text",
        "normalised",
    ]
    exclude = ["content"]

    @admin.display(description="raw record")
    def raw_text(self, obj: SourceRecord) -> str:
        return obj.text

    @admin.display(description="normalised record (snapshot)")
    def normalised(self, obj: SourceRecord) -> str:
        snapshot = obj.snapshot_data
        if snapshot is None:
            return "(none: stored before snapshots were kept)"
        return json.dumps(snapshot, indent=2, ensure_ascii=False)


@admin.register(SynonymGroup)
class SynonymGroupAdmin(admin.ModelAdmin):
    list_display = ["__str__", "source", "updated_at"]
    list_filter = ["source"]
    search_fields = ["terms"]
