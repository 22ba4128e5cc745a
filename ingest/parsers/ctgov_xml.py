"""ClinicalTrials.gov legacy XML (``<clinical_study>``): the AllPublicXML download and the classic API.

The values are the registry's display wording ("Active Comparator", "Phase 1/Phase 2", "March 2008"); they are
turned into the API v2 enumerations so a study reads the same whichever of the two formats it came in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from trials.choices import Masking, OutcomeKind, Registry, SponsorRole

from .. import normalize as n
from ..records import (
    ArmRecord,
    BiospecimenRecord,
    ConditionRecord,
    ContactRecord,
    IdentifierRecord,
    InterventionRecord,
    KeywordRecord,
    OutcomeRecord,
    ParseError,
    PartialDate,
    SiteRecord,
    SponsorRecord,
    TrialRecord,
)
from ..registries import registry_of, trial_ids_in

FORMAT = "ctgov-xml"
PARSER_VERSION = "ctgov-xml/1"

# The root element, after an optional XML declaration and any comments, processing instructions or DOCTYPE.
_ROOT = re.compile(
    r"\ufeff?\s*(?:(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\]\s*)?>)\s*)*<clinical_study[\s>/]", re.DOTALL
)

# What expat says when the document stops before its root element closes.
_CUT_SHORT = {"no element found", "unclosed token"}

# Display wording whose v2 enumeration is not the wording in capitals.
_ENUM_EXCEPTIONS = {
    "U_S_FED": "FED",  # agency class
    "EDUCATIONAL_COUNSELING_TRAINING": "ECT",  # primary purpose
    "SUBJECT": "PARTICIPANT",  # who is masked, before 2017
    "CAREGIVER": "CARE_PROVIDER",
}
# Before 2017 the design was one line: "Allocation: Randomized, Intervention Model: Parallel Assignment, ...".
_DESIGN_LABEL = re.compile(r"(?:^|,\s*)([A-Z][A-Za-z ]{2,40}):\s*")


def looks_like(text: str) -> bool:
    return bool(_ROOT.match(text))


def parse(payload: bytes) -> Iterator[TrialRecord]:
    """Yield the one study of a ``<clinical_study>`` file; entity declarations are refused, never expanded."""
    study = _read_xml(payload)
    if study.tag != "clinical_study":
        raise ParseError(f"not a ClinicalTrials.gov XML study: the root element is <{study.tag}>, not <clinical_study>")
    nct_id = _text(study, "id_info/nct_id")
    if not nct_id:
        raise ParseError("not a ClinicalTrials.gov study: no id_info/nct_id")
    yield _study_record(study, nct_id, payload)


def _read_xml(payload: bytes) -> Element:
    try:
        return fromstring(payload)
    except DefusedXmlException as error:
        raise ParseError(f"refused XML: {error}; registry records declare no entities or external references") from None
    except XMLSyntaxError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        if reason in _CUT_SHORT and line >= payload.count(b"\n"):
            reason = f"{reason}: the file ends inside the document, it looks truncated"
        raise ParseError(f"broken XML at line {line}, column {column + 1}: {reason}") from None


def _text(element: Element | None, path: str) -> str:
    """The one-line text at a path, "" when absent."""
    return n.clean(element.findtext(path)) if element is not None else ""


def _texts(element: Element | None, path: str) -> list[str]:
    """The non-empty texts of every element at a path, in order."""
    if element is None:
        return []
    return [text for text in (n.clean(item.text) for item in element.findall(path)) if text]


def _raw(element: Element | None, path: str) -> str:
    """The text at a path as written; NIH Clinical Center records mark line breaks with "@@@"."""
    text = element.findtext(path) if element is not None else None
    return (text or "").replace("@@@", "\n")


def _lines(element: Element | None, path: str) -> str:
    """Multi-line text whose line breaks are the writer's own (descriptions of arms, outcomes, ...)."""
    return n.clean_block(_raw(element, path))


def _block(element: Element | None, path: str) -> str:
    """A ``textblock``, which the registry hard-wraps and indents: lines joined into paragraphs and list items."""
    return n.clean_wrapped(_raw(element, path))


def _enum(text: str) -> str:
    """Display wording as its API v2 enumeration: "Active Comparator" -> "ACTIVE_COMPARATOR"."""
    value = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")
    return _ENUM_EXCEPTIONS.get(value, value)


def _date(study: Element, *tags: str) -> PartialDate | None:
    """The first of these dates the study gives (newer tag names first)."""
    return next((date for tag in tags if (date := n.parse_date(_text(study, tag)))), None)


def _study_record(study: Element, nct_id: str, payload: bytes) -> TrialRecord:
    design = study.find("study_design_info")
    old_design = _old_design(_text(study, "study_design"))
    eligibility = study.find("eligibility")
    patient_data = study.find("patient_data")
    masking_text = _text(design, "masking") or old_design.get("masking", "")
    masking, who_masked = _masking(masking_text)
    criteria_text = _block(eligibility, "criteria/textblock")
    enrollment = study.find("enrollment")
    enrollment_count = n.parse_int(enrollment.text) if enrollment is not None else None
    actual = enrollment is not None and enrollment.get("type", "").lower() == "actual"
    registered = _date(study, "study_first_submitted", "firstreceived_date")
    started = _date(study, "start_date")
    study_type = _text(study, "study_type")

    def designed(tag: str) -> str:
        return _text(design, tag) or old_design.get(tag, "")

    return TrialRecord(
        registry=Registry.CTGOV,
        registry_id=nct_id,
        source=payload,
        source_format=FORMAT,
        parser_version=PARSER_VERSION,
        source_url=f"https://clinicaltrials.gov/study/{nct_id}",
        public_title=_text(study, "brief_title"),
        scientific_title=_text(study, "official_title"),
        acronym=_text(study, "acronym"),
        status=n.status_from(_text(study, "overall_status")),
        status_text=_text(study, "overall_status"),
        # "N/A" is the study type of redacted device trials only: the type is not known.
        study_type="" if study_type == "N/A" else n.study_type_from(study_type),
        study_type_text=study_type,
        phases=n.phases_from(_text(study, "phase")),
        phase_text=_text(study, "phase"),
        allocation=n.allocation_from(designed("allocation")),
        intervention_model=n.intervention_model_from(designed("intervention_model")),
        observational_model=_enum(designed("observational_model")),
        time_perspective=_enum(designed("time_perspective")),
        masking=masking,
        who_masked=who_masked,
        primary_purpose=_enum(designed("primary_purpose")),
        design_text=_text(design, "intervention_model_description") or _text(study, "study_design"),
        blinding_text=_text(design, "masking_description"),
        enrollment_target=None if actual else enrollment_count,
        enrollment_actual=enrollment_count if actual else None,
        registration_date=registered,
        first_posted_date=_date(study, "study_first_posted"),
        last_update_date=_date(study, "last_update_posted", "lastchanged_date", "last_update_submitted"),
        start_date=started,
        primary_completion_date=_date(study, "primary_completion_date"),
        completion_date=_date(study, "completion_date"),
        registration_timing=n.registration_timing(registered, started),
        brief_summary=_block(study, "brief_summary/textblock"),
        description=_block(study, "detailed_description/textblock"),
        has_dmc=n.yes_no(_text(study, "oversight_info/has_dmc")),
        ipd_sharing=_text(patient_data, "sharing_ipd").upper(),
        ipd_sharing_text=_text(patient_data, "sharing_ipd"),
        ipd_sharing_description=_lines(patient_data, "ipd_description"),
        responsible_party=_responsible_party(study.find("responsible_party")),
        has_results=study.find("clinical_results") is not None,
        min_age_years=n.parse_age(_text(eligibility, "minimum_age")),
        max_age_years=n.parse_age(_text(eligibility, "maximum_age")),
        min_age_text=_text(eligibility, "minimum_age"),
        max_age_text=_text(eligibility, "maximum_age"),
        sex=n.sex_from(_text(eligibility, "gender")),
        sex_text=_text(eligibility, "gender"),
        healthy_volunteers=_healthy_volunteers(_text(eligibility, "healthy_volunteers")),
        eligibility_text=criteria_text,
        conditions=tuple(ConditionRecord(name=name) for name in _texts(study, "condition"))
        + tuple(ConditionRecord(name=term, vocabulary="MeSH") for term in _texts(study, "condition_browse/mesh_term")),
        keywords=tuple(KeywordRecord(name=word) for word in _texts(study, "keyword")),
        arms=_arms(study),
        interventions=_interventions(study),
        outcomes=_outcomes(study),
        criteria=n.eligibility_criteria(criteria_text),
        sites=_sites(study),
        sponsors=_sponsors(study),
        contacts=_contacts(study),
        identifiers=_identifiers(study, nct_id),
        biospecimens=_biospecimens(study),
        extra=_extra(study, old_design),
    )


def _old_design(text: str) -> dict[str, str]:
    """The labelled parts of a pre-2017 design line, keyed like the tags of ``study_design_info``."""
    labels = list(_DESIGN_LABEL.finditer(text))
    if not labels:
        return {}
    ends = [label.start() for label in labels[1:]] + [len(text)]
    return {
        label.group(1).strip().lower().replace(" ", "_"): text[label.end() : end].strip()
        for label, end in zip(labels, ends, strict=True)
    }


def _masking(text: str) -> tuple[str, tuple[str, ...]]:
    """The masking and who is masked, from "Double (Participant, Investigator)" or, before 2017, "Double Blind
    (Subject, Caregiver)"."""
    match = re.fullmatch(r"([^(]*)(?:\((.*)\))?", text)
    level, who = (match.group(1), match.group(2) or "") if match else (text, "")
    masking = n.masking_from(level)
    if masking == Masking.NONE:
        return masking, ()  # "None (Open Label)" names no one
    return masking, tuple(_enum(party) for party in who.split(",") if party.strip())


def _healthy_volunteers(text: str) -> bool | None:
    return True if text.lower().startswith("accepts") else n.yes_no(text)


def _responsible_party(party: Element | None) -> str:
    """Newer records name the party and its kind; older ones a name, title and organisation."""
    parts = [
        _text(party, "investigator_full_name"),
        _text(party, "investigator_title"),
        _text(party, "investigator_affiliation"),
        _text(party, "name_title"),
        _text(party, "organization"),
    ]
    text = ", ".join(part for part in parts if part)
    kind = _enum(_text(party, "responsible_party_type"))
    return f"{text} ({kind})" if text and kind else text or kind


def _arms(study: Element) -> tuple[ArmRecord, ...]:
    return tuple(
        ArmRecord(
            label=_text(arm, "arm_group_label"),
            type=_enum(_text(arm, "arm_group_type")),
            type_text=_text(arm, "arm_group_type"),
            description=_lines(arm, "description"),
        )
        for arm in study.findall("arm_group")
        if _text(arm, "arm_group_label")
    )


def _interventions(study: Element) -> tuple[InterventionRecord, ...]:
    interventions = []
    for item in study.findall("intervention"):
        if not _text(item, "intervention_name"):
            continue
        # Other names (brand names, codes) have no field of their own; they stay with the description.
        other_names = "; ".join(_texts(item, "other_name"))
        description = _lines(item, "description")
        if other_names:
            description = f"{description}\n\nOther names: {other_names}".strip()
        interventions.append(
            InterventionRecord(
                name=_text(item, "intervention_name"),
                type=_enum(_text(item, "intervention_type")),
                type_text=_text(item, "intervention_type"),
                description=description,
                arm_labels=tuple(_texts(item, "arm_group_label")),
            )
        )
    return tuple(interventions)


def _outcomes(study: Element) -> tuple[OutcomeRecord, ...]:
    return tuple(
        OutcomeRecord(
            kind=kind,
            measure=_text(item, "measure"),
            time_frame=_text(item, "time_frame"),
            description=_lines(item, "description"),
        )
        for kind, tag in (
            (OutcomeKind.PRIMARY, "primary_outcome"),
            (OutcomeKind.SECONDARY, "secondary_outcome"),
            (OutcomeKind.OTHER, "other_outcome"),
        )
        for item in study.findall(tag)
        if _text(item, "measure")
    )


def _sites(study: Element) -> tuple[SiteRecord, ...]:
    sites = [
        SiteRecord(
            facility=_text(location, "facility/name"),
            city=_text(location, "facility/address/city"),
            region=_text(location, "facility/address/state"),
            country=_text(location, "facility/address/country"),
            status=n.status_from(_text(location, "status")) or _text(location, "status"),
        )
        for location in study.findall("location")
    ]
    listed = {site.country for site in sites}
    # Countries named without a site are kept as sites known only by their country.
    sites += [
        SiteRecord(country=country) for country in _texts(study, "location_countries/country") if country not in listed
    ]
    return tuple(sites)


def _sponsors(study: Element) -> tuple[SponsorRecord, ...]:
    return tuple(
        SponsorRecord(name=_text(sponsor, "agency"), role=role, agency_class=_enum(_text(sponsor, "agency_class")))
        for role, tag in ((SponsorRole.LEAD, "lead_sponsor"), (SponsorRole.COLLABORATOR, "collaborator"))
        for sponsor in study.findall(f"sponsors/{tag}")
        if _text(sponsor, "agency")
    )


def _person(element: Element) -> str:
    """A person's name as given: often all in ``last_name`` ("Jane Roe, MD"), sometimes in parts."""
    name = " ".join(_texts(element, "first_name") + _texts(element, "middle_name") + _texts(element, "last_name"))
    degrees = _text(element, "degrees")
    return f"{name}, {degrees}" if name and degrees else name


def _contact(person: Element, role: str, affiliation: str = "") -> ContactRecord:
    return ContactRecord(
        role=role,
        name=_person(person),
        affiliation=affiliation,
        phone=" ".join(filter(None, [_text(person, "phone"), _text(person, "phone_ext")])),
        email=_text(person, "email"),
    )


def _contacts(study: Element) -> tuple[ContactRecord, ...]:
    """Central contacts and officials as in API v2, then each site's contacts and investigators."""
    contacts = [
        _contact(person, "CONTACT")
        for tag in ("overall_contact", "overall_contact_backup")
        for person in study.findall(tag)
    ]
    contacts += [
        _contact(person, _enum(_text(person, "role")) or "OFFICIAL", _text(person, "affiliation"))
        for person in study.findall("overall_official")
    ]
    for location in study.findall("location"):
        facility = _text(location, "facility/name")
        contacts += [
            _contact(person, "FACILITY_CONTACT", facility)
            for tag in ("contact", "contact_backup")
            for person in location.findall(tag)
        ]
        contacts += [
            _contact(person, _enum(_text(person, "role")) or "INVESTIGATOR", facility)
            for person in location.findall("investigator")
        ]
    return tuple(contacts)


def _identifiers(study: Element, nct_id: str) -> tuple[IdentifierRecord, ...]:
    """The sponsor's id, secondary ids, and ids of the same trial in other registries (or merged NCT ids)."""
    identifiers = []
    org_id = _text(study, "id_info/org_study_id")
    if org_id:
        identifiers.append(IdentifierRecord(value=org_id, type="org_study_id", issuer=_text(study, "source")))
    for value in _texts(study, "id_info/secondary_id"):
        if not registry_of(value):
            # Kept as written unless it is a trial id and nothing else ("EudraCT: 2005-004244-31" keeps its words).
            identifiers.append(IdentifierRecord(value=value, type="secondary"))
        identifiers += [
            IdentifierRecord(value=trial_id, type="registry", issuer=registry)
            for registry, trial_id in trial_ids_in(value)
            if trial_id != nct_id
        ]
    # An alias is an NCT id of the same trial registered twice, merged into this one.
    identifiers += [
        IdentifierRecord(value=alias, type="registry", issuer=Registry.CTGOV)
        for alias in _texts(study, "id_info/nct_alias")
    ]
    return tuple(identifiers)


def _biospecimens(study: Element) -> tuple[BiospecimenRecord, ...]:
    retention = _text(study, "biospec_retention")
    description = _block(study, "biospec_descr/textblock")
    if not retention and not description:
        return ()
    return (BiospecimenRecord(name=description, fate=retention),)


def _extra(study: Element, old_design: dict[str, str]) -> dict[str, str]:
    """Registry fields with no TrialRecord field; absent ones are left out."""
    oversight = study.find("oversight_info")
    patient_data = study.find("patient_data")
    eligibility = study.find("eligibility")
    fields = {
        "why_stopped": _text(study, "why_stopped"),
        "last_known_status": _text(study, "last_known_status"),
        "has_expanded_access": _text(study, "has_expanded_access"),
        "expanded_access_types": ", ".join(
            child.tag.removeprefix("expanded_access_type_").capitalize()
            for child in study.findall("expanded_access_info/*")
            if n.yes_no(child.text)
        ),
        "patient_registry": "Yes" if "patient registry" in _text(study, "study_type").lower() else "",
        "target_duration": _text(study, "target_duration"),
        "number_of_arms": _text(study, "number_of_arms"),
        "number_of_groups": _text(study, "number_of_groups"),
        "endpoint_classification": old_design.get("endpoint_classification", ""),
        "study_population": _block(eligibility, "study_pop/textblock"),
        "sampling_method": _text(eligibility, "sampling_method"),
        "gender_based": _text(eligibility, "gender_based"),
        "gender_description": _text(eligibility, "gender_description"),
        "ipd_info_types": "; ".join(_texts(patient_data, "ipd_info_type")),
        "ipd_time_frame": _lines(patient_data, "ipd_time_frame"),
        "ipd_access_criteria": _lines(patient_data, "ipd_access_criteria"),
        "ipd_url": _text(patient_data, "ipd_url"),
        "removed_countries": "; ".join(_texts(study, "removed_countries/country")),
        "intervention_mesh_terms": "; ".join(_texts(study, "intervention_browse/mesh_term")),
        "reference_pmids": ", ".join(_texts(study, "reference/PMID")),
        "results_reference_pmids": ", ".join(_texts(study, "results_reference/PMID")),
        "links": "\n".join(_link(link) for link in study.findall("link") if _text(link, "url")),
        "documents": "\n".join(_document(doc) for doc in study.findall("provided_document_section/provided_document")),
        "study_documents": "\n".join(_document(doc) for doc in study.findall("study_docs/study_doc")),
        "oversight_authorities": "; ".join(_texts(oversight, "authority")),
    }
    for tag in (
        "is_fda_regulated_drug",
        "is_fda_regulated_device",
        "is_unapproved_device",
        "is_ppsd",
        "is_us_export",
        "is_fda_regulated",
        "is_section_801",
    ):
        fields[tag] = _text(oversight, tag)
    for tag in ("start_date", "primary_completion_date", "completion_date", "study_first_posted", "last_update_posted"):
        element = study.find(tag)
        fields[f"{tag}_type"] = element.get("type", "") if element is not None else ""
    for name, tags in (
        ("verification_date", ("verification_date",)),
        ("results_first_submitted", ("results_first_submitted", "firstreceived_results_date")),
        ("results_first_posted", ("results_first_posted",)),
        ("disposition_first_submitted", ("disposition_first_submitted", "firstreceived_results_disposition_date")),
    ):
        date = _date(study, *tags)
        fields[name] = date.isoformat() if date else ""
    fields["pending_results"] = "; ".join(
        f"{child.tag.replace('_', ' ')} {n.clean(child.text)}" for child in study.findall("pending_results/*")
    )
    return {name: value for name, value in fields.items() if value}


def _link(link: Element) -> str:
    description = _text(link, "description")
    return f"{_text(link, 'url')} ({description})" if description else _text(link, "url")


def _document(document: Element) -> str:
    """One document as "type: address"; both the 2019 section and the older study_docs list are read."""
    kind = _text(document, "document_type") or _text(document, "doc_type")
    url = _text(document, "document_url") or _text(document, "doc_url")
    return f"{kind}: {url}" if kind else url
