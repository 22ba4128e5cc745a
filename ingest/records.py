"""Plain records that parsers produce and the writer stores; no Django here.

Scalar fields of TrialRecord carry the names of the Trial model's fields; a PartialDate becomes a
date field and its ``<name>_precision`` companion. ``*_original`` holds the registry's
original-language text (e.g. Chinese) where it differs from the English.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field


class ParseError(ValueError):
    """A file or record that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class RecordFailure:
    """One record of a many-record file that could not be read; parsers yield it and go on with the next."""

    position: str  # e.g. "record 12 (NCT01234567)", "line 40", "row 7"
    reason: str


@dataclass(frozen=True)
class UnparsedRecord:
    """A record cut from its file but not parsed yet: parsing it is left to the process that writes it, as cutting
    records (lines of JSON Lines) is cheap and parsing them is most of the work."""

    parser: Callable[[bytes, int], TrialRecord | RecordFailure]  # a module's function, so that the record pickles
    data: bytes
    number: int  # of the record's first line in its file

    def parse(self) -> TrialRecord | RecordFailure:
        return self.parser(self.data, self.number)


@dataclass(frozen=True)
class PartialDate:
    value: datetime.date
    precision: str = "day"  # "day" | "month" | "year"

    def isoformat(self) -> str:
        text = self.value.isoformat()
        return {"day": text, "month": text[:7], "year": text[:4]}[self.precision]


@dataclass(frozen=True, kw_only=True)
class ConditionRecord:
    name: str
    name_original: str = ""
    code: str = ""
    vocabulary: str = ""  # "" for the registry's own condition, "MeSH" for a MeSH term


@dataclass(frozen=True, kw_only=True)
class KeywordRecord:
    name: str
    name_original: str = ""


@dataclass(frozen=True, kw_only=True)
class ArmRecord:
    label: str
    label_original: str = ""
    type: str = ""
    type_text: str = ""
    description: str = ""
    description_original: str = ""
    planned_size: int | None = None


@dataclass(frozen=True, kw_only=True)
class InterventionRecord:
    name: str
    name_original: str = ""
    type: str = ""
    type_text: str = ""
    description: str = ""
    description_original: str = ""
    code: str = ""
    arm_labels: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OutcomeRecord:
    kind: str  # "primary" | "secondary" | "other"
    measure: str
    measure_original: str = ""
    time_frame: str = ""
    time_frame_original: str = ""
    description: str = ""
    description_original: str = ""


@dataclass(frozen=True, kw_only=True)
class CriterionRecord:
    kind: str  # "inclusion" | "exclusion"
    text: str
    text_original: str = ""


@dataclass(frozen=True, kw_only=True)
class SiteRecord:
    facility: str = ""
    facility_original: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    location_original: str = ""
    status: str = ""
    level: str = ""
    level_original: str = ""


@dataclass(frozen=True, kw_only=True)
class SponsorRecord:
    name: str
    name_original: str = ""
    role: str = ""  # "lead" | "collaborator" | "funder"
    agency_class: str = ""
    address: str = ""
    address_original: str = ""


@dataclass(frozen=True, kw_only=True)
class ContactRecord:
    role: str
    name: str = ""
    name_original: str = ""
    affiliation: str = ""
    affiliation_original: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    address_original: str = ""


@dataclass(frozen=True, kw_only=True)
class IdentifierRecord:
    value: str
    type: str = ""  # "org_study_id", "secondary", "registry", "grant", ...
    issuer: str = ""


@dataclass(frozen=True, kw_only=True)
class BiospecimenRecord:
    name: str = ""
    name_original: str = ""
    tissue: str = ""
    fate: str = ""
    fate_original: str = ""
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class TrialRecord:
    registry: str
    registry_id: str
    source: bytes
    source_format: str
    parser_version: str
    source_url: str = ""
    original_language: str = ""

    public_title: str = ""
    public_title_original: str = ""
    scientific_title: str = ""
    scientific_title_original: str = ""
    acronym: str = ""
    acronym_original: str = ""

    status: str = ""
    status_text: str = ""
    study_type: str = ""
    study_type_text: str = ""
    phases: tuple[str, ...] = ()
    phase_text: str = ""

    allocation: str = ""
    intervention_model: str = ""
    observational_model: str = ""
    time_perspective: str = ""
    masking: str = ""
    who_masked: tuple[str, ...] = ()
    primary_purpose: str = ""
    design_text: str = ""
    design_text_original: str = ""
    randomization_text: str = ""
    blinding_text: str = ""

    enrollment_target: int | None = None
    enrollment_actual: int | None = None

    registration_date: PartialDate | None = None
    first_posted_date: PartialDate | None = None
    last_update_date: PartialDate | None = None
    start_date: PartialDate | None = None
    primary_completion_date: PartialDate | None = None
    completion_date: PartialDate | None = None
    recruitment_start_date: PartialDate | None = None
    recruitment_end_date: PartialDate | None = None
    registration_timing: str = ""

    brief_summary: str = ""
    brief_summary_original: str = ""
    description: str = ""
    description_original: str = ""
    objectives: str = ""
    objectives_original: str = ""

    ethics_approved: bool | None = None
    ethics_committee: str = ""
    ethics_committee_original: str = ""
    ethics_approval_number: str = ""
    ethics_approval_date: PartialDate | None = None
    ethics_contact: str = ""
    has_dmc: bool | None = None
    ipd_sharing: str = ""
    ipd_sharing_text: str = ""
    ipd_sharing_description: str = ""
    ipd_sharing_description_original: str = ""
    data_management: str = ""
    data_management_original: str = ""
    results_public_text: str = ""
    funding: str = ""
    funding_original: str = ""
    responsible_party: str = ""
    has_results: bool = False

    min_age_years: float | None = None
    max_age_years: float | None = None
    min_age_text: str = ""
    max_age_text: str = ""
    sex: str = ""
    sex_text: str = ""
    healthy_volunteers: bool | None = None
    eligibility_text: str = ""
    eligibility_text_original: str = ""

    conditions: tuple[ConditionRecord, ...] = ()
    keywords: tuple[KeywordRecord, ...] = ()
    arms: tuple[ArmRecord, ...] = ()
    interventions: tuple[InterventionRecord, ...] = ()
    outcomes: tuple[OutcomeRecord, ...] = ()
    criteria: tuple[CriterionRecord, ...] = ()
    sites: tuple[SiteRecord, ...] = ()
    sponsors: tuple[SponsorRecord, ...] = ()
    contacts: tuple[ContactRecord, ...] = ()
    identifiers: tuple[IdentifierRecord, ...] = ()
    biospecimens: tuple[BiospecimenRecord, ...] = ()

    extra: dict[str, str] = field(default_factory=dict, hash=False)
