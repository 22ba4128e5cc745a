from __future__ import annotations

import functools
import json
from functools import cached_property

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from .choices import (
    Allocation,
    ArmType,
    CriterionKind,
    DatePrecision,
    InterventionModel,
    InterventionType,
    IpdSharing,
    Masking,
    OutcomeKind,
    PrimaryPurpose,
    RegistrationTiming,
    Registry,
    Sex,
    SponsorRole,
    Status,
    StudyType,
)
from .compression import decompress
from .querysets import TrialQuerySet

# Dates of a trial; each has a <name>_precision companion saying whether the registry gave a day,
# a month or only a year.
DATE_FIELDS = (
    "registration_date",
    "first_posted_date",
    "last_update_date",
    "start_date",
    "primary_completion_date",
    "completion_date",
    "recruitment_start_date",
    "recruitment_end_date",
    "ethics_approval_date",
)


def _precision() -> models.CharField:
    return models.CharField(max_length=5, choices=DatePrecision.choices, blank=True)


class ChoiceLabels(models.Model):
    """get_<field>_display() read from a mapping built once per field: Django builds the mapping again on every
    call, and a page of results or a trial page shows dozens of labels."""

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: models.Field) -> str:
        value = getattr(self, field.attname)
        return _labels(field).get(value, value)


@functools.cache
def _labels(field: models.Field) -> dict:
    return dict(field.flatchoices)


class Trial(ChoiceLabels):
    registry = models.CharField(max_length=16, choices=Registry.choices)
    registry_id = models.CharField("registry id", max_length=64)
    source_url = models.URLField(max_length=500, blank=True)
    original_language = models.CharField(max_length=8, blank=True, help_text="e.g. zh for Chinese")

    public_title = models.TextField(blank=True)
    public_title_original = models.TextField(blank=True)
    scientific_title = models.TextField(blank=True)
    scientific_title_original = models.TextField(blank=True)
    acronym = models.TextField(blank=True)
    acronym_original = models.TextField(blank=True)

    status = models.CharField(max_length=32, choices=Status.choices, blank=True)
    status_text = models.CharField("status (registry wording)", max_length=200, blank=True)
    study_type = models.CharField(max_length=20, choices=StudyType.choices, blank=True)
    study_type_text = models.CharField("study type (registry wording)", max_length=200, blank=True)
    phases = models.JSONField(default=list, blank=True, help_text='e.g. ["PHASE2", "PHASE3"]')
    phase_text = models.CharField("phase (registry wording)", max_length=200, blank=True)

    allocation = models.CharField(max_length=16, choices=Allocation.choices, blank=True)
    intervention_model = models.CharField(max_length=16, choices=InterventionModel.choices, blank=True)
    observational_model = models.CharField(max_length=40, blank=True)
    time_perspective = models.CharField(max_length=40, blank=True)
    masking = models.CharField(max_length=10, choices=Masking.choices, blank=True)
    who_masked = models.JSONField(default=list, blank=True)
    primary_purpose = models.CharField(max_length=40, choices=PrimaryPurpose.choices, blank=True)
    design_text = models.TextField("design (registry wording)", blank=True)
    design_text_original = models.TextField(blank=True)
    randomization_text = models.TextField("randomization procedure", blank=True)
    blinding_text = models.TextField("blinding (registry wording)", blank=True)

    enrollment_target = models.PositiveIntegerField(null=True, blank=True)
    enrollment_actual = models.PositiveIntegerField(null=True, blank=True)
    enrollment = models.GeneratedField(
        expression=Coalesce("enrollment_actual", "enrollment_target"),
        output_field=models.PositiveIntegerField(null=True),
        db_persist=True,
        help_text="Actual enrolment where reported, else the target",
    )

    registration_date = models.DateField(null=True, blank=True)
    registration_date_precision = _precision()
    first_posted_date = models.DateField(null=True, blank=True)
    first_posted_date_precision = _precision()
    last_update_date = models.DateField(null=True, blank=True)
    last_update_date_precision = _precision()
    start_date = models.DateField(null=True, blank=True)
    start_date_precision = _precision()
    primary_completion_date = models.DateField(null=True, blank=True)
    primary_completion_date_precision = _precision()
    completion_date = models.DateField(null=True, blank=True)
    completion_date_precision = _precision()
    recruitment_start_date = models.DateField(null=True, blank=True)
    recruitment_start_date_precision = _precision()
    recruitment_end_date = models.DateField(null=True, blank=True)
    recruitment_end_date_precision = _precision()
    registration_timing = models.CharField(max_length=13, choices=RegistrationTiming.choices, blank=True)

    brief_summary = models.TextField(blank=True)
    brief_summary_original = models.TextField(blank=True)
    description = models.TextField(blank=True)
    description_original = models.TextField(blank=True)
    objectives = models.TextField(blank=True)
    objectives_original = models.TextField(blank=True)

    ethics_approved = models.BooleanField(null=True, blank=True)
    ethics_committee = models.TextField(blank=True)
    ethics_committee_original = models.TextField(blank=True)
    ethics_approval_number = models.CharField(max_length=200, blank=True)
    ethics_approval_date = models.DateField(null=True, blank=True)
    ethics_approval_date_precision = _precision()
    ethics_contact = models.TextField(blank=True)
    has_dmc = models.BooleanField("data monitoring committee", null=True, blank=True)
    ipd_sharing = models.CharField("IPD sharing", max_length=10, choices=IpdSharing.choices, blank=True)
    ipd_sharing_text = models.CharField("IPD sharing (registry wording)", max_length=200, blank=True)
    ipd_sharing_description = models.TextField("IPD sharing statement", blank=True)
    ipd_sharing_description_original = models.TextField(blank=True)
    data_management = models.TextField(blank=True)
    data_management_original = models.TextField(blank=True)
    results_public_text = models.CharField("results made public", max_length=200, blank=True)
    funding = models.TextField(blank=True)
    funding_original = models.TextField(blank=True)
    responsible_party = models.TextField(blank=True)
    has_results = models.BooleanField(default=False)

    min_age_years = models.FloatField(null=True, blank=True)
    max_age_years = models.FloatField(null=True, blank=True)
    min_age_text = models.CharField(max_length=100, blank=True)
    max_age_text = models.CharField(max_length=100, blank=True)
    sex = models.CharField(max_length=6, choices=Sex.choices, blank=True)
    sex_text = models.CharField("sex (registry wording)", max_length=100, blank=True)
    healthy_volunteers = models.BooleanField(null=True, blank=True)
    eligibility_text = models.TextField("eligibility criteria as registered", blank=True)
    eligibility_text_original = models.TextField(blank=True)

    extra = models.JSONField(default=dict, blank=True, help_text="Registry fields with no column of their own.")
    sample = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="0-255, from the registry id: a stable slice for estimated counts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TrialQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registry", "registry_id"], name="trial_registry_id_unique"),
        ]
        indexes = [
            models.Index(fields=["registry_id"], name="trial_registry_id_idx"),
            models.Index(fields=["-created_at", "-id"], name="trial_newest_idx"),
            models.Index(fields=["sample"], name="trial_sample_idx"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.registry_id}: {self.public_title or self.public_title_original}"[:200]

    def get_absolute_url(self) -> str:
        return reverse("trials:detail", args=[self.registry_id])

    # Both read the trial's children (prefetched, or in one query each); a list of trials has them set at once by
    # TrialQuerySet.with_listing_data.
    @cached_property
    def countries(self) -> list[str]:
        """Countries of the trial's sites, in registry order, each once."""
        return list(dict.fromkeys(site.country for site in self.sites.all() if site.country))

    @cached_property
    def condition_names(self) -> list[str]:
        """The conditions as the registry states them, without the vocabulary terms added to them (MeSH)."""
        return [condition.name for condition in self.conditions.all() if not condition.vocabulary]


class TrialChild(ChoiceLabels):
    """A row that belongs to one trial and keeps the registry's order."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="%(class)ss")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        # By the column: ordering by "trial" would order by the trial's own ordering, joining the trial table
        # to every read of a trial's children.
        ordering = ["trial_id", "position"]


class Condition(TrialChild):
    name = models.TextField()
    name_original = models.TextField(blank=True)
    code = models.CharField(max_length=100, blank=True)
    vocabulary = models.CharField(max_length=20, blank=True, help_text="Empty for the registry's own term; MeSH")

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class Keyword(TrialChild):
    name = models.TextField()
    name_original = models.TextField(blank=True)

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class Arm(TrialChild):
    label = models.TextField()
    label_original = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=ArmType.choices, blank=True)
    type_text = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    description_original = models.TextField(blank=True)
    planned_size = models.PositiveIntegerField(null=True, blank=True)

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return self.label


class Intervention(TrialChild):
    name = models.TextField()
    name_original = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=InterventionType.choices, blank=True)
    type_text = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    description_original = models.TextField(blank=True)
    code = models.CharField(max_length=200, blank=True)
    arms = models.ManyToManyField(Arm, blank=True, related_name="interventions")

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class Outcome(TrialChild):
    kind = models.CharField(max_length=10, choices=OutcomeKind.choices)
    measure = models.TextField()
    measure_original = models.TextField(blank=True)
    time_frame = models.TextField(blank=True)
    time_frame_original = models.TextField(blank=True)
    description = models.TextField(blank=True)
    description_original = models.TextField(blank=True)

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return self.measure


class EligibilityCriterion(TrialChild):
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(max_length=10, choices=CriterionKind.choices)
    text = models.TextField(blank=True)
    text_original = models.TextField(blank=True)

    class Meta(TrialChild.Meta):
        verbose_name_plural = "eligibility criteria"

    def __str__(self) -> str:
        return self.text or self.text_original


class Site(TrialChild):
    facility = models.TextField(blank=True)
    facility_original = models.TextField(blank=True)
    city = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=100, blank=True)
    location_original = models.TextField(blank=True)
    status = models.CharField(max_length=40, blank=True)
    level = models.CharField("institution level", max_length=100, blank=True)
    level_original = models.CharField(max_length=100, blank=True)

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return ", ".join(part for part in (self.facility, self.city, self.country) if part)


class Sponsor(TrialChild):
    name = models.TextField()
    name_original = models.TextField(blank=True)
    role = models.CharField(max_length=12, choices=SponsorRole.choices, blank=True)
    agency_class = models.CharField(max_length=20, blank=True)
    address = models.TextField(blank=True)
    address_original = models.TextField(blank=True)

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return self.name


class Contact(TrialChild):
    role = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=300, blank=True)
    name_original = models.CharField(max_length=300, blank=True)
    affiliation = models.TextField(blank=True)
    affiliation_original = models.TextField(blank=True)
    phone = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    address = models.TextField(blank=True)
    address_original = models.TextField(blank=True)

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Identifier(TrialChild):
    value = models.CharField(max_length=200)
    type = models.CharField(max_length=60, blank=True)
    issuer = models.CharField(max_length=300, blank=True)

    class Meta(TrialChild.Meta):
        indexes = [models.Index(fields=["value"], name="identifier_value_idx")]

    def __str__(self) -> str:
        return self.value


class Biospecimen(TrialChild):
    name = models.TextField(blank=True)
    name_original = models.TextField(blank=True)
    tissue = models.CharField(max_length=200, blank=True)
    fate = models.CharField(max_length=200, blank=True)
    fate_original = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    class Meta(TrialChild.Meta):
        pass

    def __str__(self) -> str:
        return self.name or self.name_original


class TrialFacet(models.Model):
    """One value a trial is filtered and counted under (status, phase, country, ...), written with the trial on
    SQLite; PostgreSQL keeps the same values as keys in the search document (trials/search/backends.py)."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="facets", db_index=False)
    name = models.CharField(max_length=20)
    value = models.CharField(max_length=200)
    sample = models.PositiveSmallIntegerField(help_text="the trial's sample, so estimates need not join")

    class Meta:
        constraints = [
            # Also the index that reads a trial's facet values when counting (covering: no table access).
            models.UniqueConstraint(fields=["trial", "name", "value"], name="trial_facet_unique"),
        ]
        indexes = [
            # Filtering: the trials having a value, optionally within a sample range, from the index alone.
            models.Index(fields=["name", "value", "sample", "trial"], name="trial_facet_lookup_idx"),
            # Counting the sampled slice of all trials, when nothing narrows the search.
            models.Index(fields=["name", "value", "trial"], condition=Q(sample__lt=2), name="trial_facet_sample_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class SynonymGroup(models.Model):
    """Terms that name the same condition; searching for one finds trials that use any of them."""

    terms = models.TextField(help_text="One term per line, in any language, e.g. femoral head necrosis / 股骨头坏死")
    source = models.CharField(max_length=10, choices=[("curated", "Curated"), ("mesh", "MeSH")], default="curated")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["terms"]

    def __str__(self) -> str:
        return " = ".join(self.term_list)

    @property
    def term_list(self) -> list[str]:
        return [line.strip() for line in self.terms.splitlines() if line.strip()]


class SourceRecord(models.Model):
    """One version of a trial's record: the raw source, its normalised content, and when it came.

    A record whose content differs from the newest version's is stored as a new version; the earlier ones stay,
    so a trial has a history (a registry going back to earlier content is a version of its own too).
    """

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="sources")
    format = models.CharField(max_length=40)
    checksum = models.CharField(
        max_length=64, help_text="SHA-256 of the normalised content (the snapshot), not of the raw bytes"
    )
    parser_version = models.CharField(max_length=40)
    content = models.BinaryField(help_text="compressed raw record (see compression.py)")
    size = models.PositiveIntegerField(help_text="bytes before compression")
    snapshot = models.BinaryField(
        blank=True,
        default=b"",
        help_text="compressed canonical JSON of the normalised record; empty if stored before snapshots were kept",
    )
    origin = models.CharField(max_length=500, blank=True, help_text="file the record came from")
    ingested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trial_id", "-ingested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.format} record of {self.trial_id} ({self.checksum[:12]})"

    @property
    def text(self) -> str:
        return decompress(self.content).decode("utf-8", errors="replace")

    @property
    def snapshot_data(self) -> dict | None:
        """The normalised record of this version as stored at ingest, or None for a version kept without one."""
        if not self.snapshot:
            return None
        return json.loads(decompress(self.snapshot))
