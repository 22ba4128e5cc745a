"""ClinicalTrials.gov API v2 studies (``protocolSection`` / ``derivedSection``) as JSON."""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from trials.choices import OutcomeKind, Registry, SponsorRole

from .. import normalize as n
from ..inputs import head_of
from ..records import (
    ArmRecord,
    ConditionRecord,
    ContactRecord,
    IdentifierRecord,
    InterventionRecord,
    KeywordRecord,
    OutcomeRecord,
    ParseError,
    RecordFailure,
    SiteRecord,
    SponsorRecord,
    TrialRecord,
)
from ..registries import canonical, registry_of

FORMAT = "ctgov-json"
PARSER_VERSION = "ctgov-json/2"  # 2: secondary ids naming a registered trial
HEAD_BYTES = 64 * 1024
MAX_STUDY_BYTES = 64 * 1024 * 1024


def looks_like(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def parse(payload: bytes) -> Iterator[TrialRecord | RecordFailure]:
    """Yield one record per study: a single study, an array, a ``{"studies": [...]}`` page or JSON Lines."""
    return parse_stream(io.BytesIO(payload))


def parse_stream(stream: BinaryIO) -> Iterator[TrialRecord | RecordFailure]:
    """Like parse, reading arrays, pages and JSON Lines incrementally, one study in memory at a time."""
    head, stream = head_of(stream, HEAD_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))
        head = head[len(codecs.BOM_UTF8) :]
    elif n.detect_encoding(head) != "utf-8":
        # The API writes UTF-8; another encoding means a file someone re-saved, small enough to read whole.
        payload = n.decode_text(stream.read(MAX_STUDY_BYTES)).encode()
        return _studies(io.BytesIO(payload), payload[:HEAD_BYTES])
    return _studies(stream, head)


def _studies(stream: BinaryIO, head: bytes) -> Iterator[TrialRecord | RecordFailure]:
    start = head.lstrip()[:1]
    if start == b"[":
        yield from _items(stream, "item")
    elif start != b"{":
        raise ParseError("not JSON: a ClinicalTrials.gov export starts with { or [")
    elif _is_json_lines(head):
        yield from _json_lines(stream)
    elif _PAGE.match(head):
        yield from _items(stream, "studies.item")
    else:
        payload = stream.read(MAX_STUDY_BYTES + 1)
        if len(payload) > MAX_STUDY_BYTES:
            raise ParseError(f"a single JSON study may hold at most {MAX_STUDY_BYTES:,} bytes")
        try:
            study = json.loads(payload)
        except json.JSONDecodeError as error:
            raise ParseError(f"broken JSON: {error}") from None
        yield study_record(study, payload)


# A search-results page: the studies come first in the API's own output, before nextPageToken.
_PAGE = re.compile(rb'\s*\{\s*(?:"(?:totalCount|nextPageToken)"\s*:\s*[^,{]*,\s*)*"studies"\s*:')


def _is_json_lines(head: bytes) -> bool:
    """JSON Lines: the first line alone is a whole object and another line follows."""
    first, newline, rest = head.lstrip().partition(b"\n")
    if not newline or not rest.strip():
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def _items(stream: BinaryIO, prefix: str) -> Iterator[TrialRecord | RecordFailure]:
    count = 0
    try:
        for study in ijson.items(stream, prefix, use_float=True):
            count += 1
            yield _record_or_failure(study, None, f"study {count}")
    except ijson.JSONError as error:
        raise ParseError(f"broken JSON after study {count}: {error}") from None


def _json_lines(stream: BinaryIO) -> Iterator[TrialRecord | RecordFailure]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            study = json.loads(line)
        except ValueError as error:
            yield RecordFailure(f"line {number}", f"broken JSON: {error}")
            continue
        yield _record_or_failure(study, line.rstrip(b"\r\n"), f"line {number}")


def _record_or_failure(study: Any, source: bytes | None, position: str) -> TrialRecord | RecordFailure:
    try:
        if source is None:
            source = json.dumps(study, ensure_ascii=False, separators=(",", ":")).encode()
        return study_record(study, source, position=position)
    except ParseError as error:
        return RecordFailure(position, str(error))


def _get(data: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return default
        data = data.get(key)
    return default if data is None else data


def study_record(
    study: Any, source: bytes, *, source_format: str = FORMAT, parser_version: str = PARSER_VERSION, position: str = ""
) -> TrialRecord:
    """The record of one API v2 study given as a decoded dict."""
    protocol = _get(study, "protocolSection")
    nct_id = _get(protocol, "identificationModule", "nctId")
    if not isinstance(protocol, dict) or not nct_id:
        where = f" ({position})" if position else ""
        raise ParseError(f"not a ClinicalTrials.gov study{where}: no protocolSection.identificationModule.nctId")

    ident = _get(protocol, "identificationModule", default={})
    status = _get(protocol, "statusModule", default={})
    design = _get(protocol, "designModule", default={})
    design_info = _get(design, "designInfo", default={})
    masking = _get(design_info, "maskingInfo", default={})
    enrollment = _get(design, "enrollmentInfo", default={})
    eligibility = _get(protocol, "eligibilityModule", default={})
    description = _get(protocol, "descriptionModule", default={})
    oversight = _get(protocol, "oversightModule", default={})
    ipd = _get(protocol, "ipdSharingStatementModule", default={})
    sponsors = _get(protocol, "sponsorCollaboratorsModule", default={})
    criteria_text = n.unescape_markdown(_get(eligibility, "eligibilityCriteria", default=""))
    enrollment_count = n.parse_int(_get(enrollment, "count"))
    actual = str(_get(enrollment, "type", default="")).upper() == "ACTUAL"
    registered = n.parse_date(_get(status, "studyFirstSubmitDate"))
    started = n.parse_date(_get(status, "startDateStruct", "date"))

    return TrialRecord(
        registry=Registry.CTGOV,
        registry_id=nct_id,
        source=source,
        source_format=source_format,
        parser_version=parser_version,
        source_url=f"https://clinicaltrials.gov/study/{nct_id}",
        public_title=n.clean(_get(ident, "briefTitle")),
        scientific_title=n.clean(_get(ident, "officialTitle")),
        acronym=n.clean(_get(ident, "acronym")),
        status=n.status_from(_get(status, "overallStatus")),
        status_text=n.clean(_get(status, "overallStatus")),
        study_type=n.study_type_from(_get(design, "studyType")),
        study_type_text=n.clean(_get(design, "studyType")),
        phases=tuple(phase for value in _get(design, "phases", default=[]) for phase in n.phases_from(value)),
        phase_text=", ".join(_get(design, "phases", default=[])),
        allocation=n.allocation_from(_get(design_info, "allocation")),
        intervention_model=n.intervention_model_from(_get(design_info, "interventionModel")),
        observational_model=n.clean(_get(design_info, "observationalModel")),
        time_perspective=n.clean(_get(design_info, "timePerspective")),
        masking=n.masking_from(_get(masking, "masking")),
        who_masked=tuple(_get(masking, "whoMasked", default=[])),
        primary_purpose=n.clean(_get(design_info, "primaryPurpose")),
        design_text=n.clean_block(_get(design_info, "interventionModelDescription")),
        blinding_text=n.clean_block(_get(masking, "maskingDescription")),
        enrollment_target=None if actual else enrollment_count,
        enrollment_actual=enrollment_count if actual else None,
        registration_date=registered,
        first_posted_date=n.parse_date(_get(status, "studyFirstPostDateStruct", "date")),
        last_update_date=n.parse_date(_get(status, "lastUpdatePostDateStruct", "date")),
        start_date=started,
        primary_completion_date=n.parse_date(_get(status, "primaryCompletionDateStruct", "date")),
        completion_date=n.parse_date(_get(status, "completionDateStruct", "date")),
        registration_timing=n.registration_timing(registered, started),
        brief_summary=_markdown(_get(description, "briefSummary")),
        description=_markdown(_get(description, "detailedDescription")),
        has_dmc=_get(oversight, "oversightHasDmc"),
        ipd_sharing=n.clean(_get(ipd, "ipdSharing")).upper(),
        ipd_sharing_text=n.clean(_get(ipd, "ipdSharing")),
        ipd_sharing_description=n.clean_block(_get(ipd, "description")),
        responsible_party=_responsible_party(_get(sponsors, "responsibleParty", default={})),
        has_results=bool(_get(study, "hasResults", default=False) or _get(study, "resultsSection")),
        min_age_years=n.parse_age(_get(eligibility, "minimumAge")),
        max_age_years=n.parse_age(_get(eligibility, "maximumAge")),
        min_age_text=n.clean(_get(eligibility, "minimumAge")),
        max_age_text=n.clean(_get(eligibility, "maximumAge")),
        sex=n.sex_from(_get(eligibility, "sex")),
        sex_text=n.clean(_get(eligibility, "sex")),
        healthy_volunteers=_get(eligibility, "healthyVolunteers"),
        eligibility_text=n.clean_block(criteria_text),
        conditions=_conditions(protocol, study),
        keywords=tuple(
            KeywordRecord(name=n.clean(word))
            for word in _get(protocol, "conditionsModule", "keywords", default=[])
            if n.clean(word)
        ),
        arms=_arms(protocol),
        interventions=_interventions(protocol),
        outcomes=_outcomes(protocol),
        criteria=n.eligibility_criteria(criteria_text),
        sites=_sites(protocol),
        sponsors=_sponsors(sponsors),
        contacts=_contacts(protocol),
        identifiers=_identifiers(ident),
    )


def _markdown(text: str | None) -> str:
    return n.clean_block(n.unescape_markdown(text or ""))


def _responsible_party(party: dict) -> str:
    parts = [
        _get(party, "investigatorFullName"),
        _get(party, "investigatorTitle"),
        _get(party, "investigatorAffiliation"),
    ]
    text = ", ".join(n.clean(part) for part in parts if part)
    kind = n.clean(_get(party, "type"))
    return f"{text} ({kind})" if text and kind else text or kind


def _conditions(protocol: dict, study: dict) -> tuple[ConditionRecord, ...]:
    own = [
        ConditionRecord(name=n.clean(name))
        for name in _get(protocol, "conditionsModule", "conditions", default=[])
        if n.clean(name)
    ]
    mesh = [
        ConditionRecord(name=n.clean(_get(term, "term")), code=n.clean(_get(term, "id")), vocabulary="MeSH")
        for term in _get(study, "derivedSection", "conditionBrowseModule", "meshes", default=[])
        if _get(term, "term")
    ]
    return tuple(own + mesh)


def _arms(protocol: dict) -> tuple[ArmRecord, ...]:
    return tuple(
        ArmRecord(
            label=n.clean(_get(arm, "label")),
            type=n.clean(_get(arm, "type")).upper(),
            type_text=n.clean(_get(arm, "type")),
            description=n.clean_block(_get(arm, "description")),
        )
        for arm in _get(protocol, "armsInterventionsModule", "armGroups", default=[])
        if _get(arm, "label")
    )


def _interventions(protocol: dict) -> tuple[InterventionRecord, ...]:
    return tuple(
        InterventionRecord(
            name=n.clean(_get(item, "name")),
            type=n.clean(_get(item, "type")).upper(),
            type_text=n.clean(_get(item, "type")),
            description=n.clean_block(_get(item, "description")),
            arm_labels=tuple(n.clean(label) for label in _get(item, "armGroupLabels", default=[])),
        )
        for item in _get(protocol, "armsInterventionsModule", "interventions", default=[])
        if _get(item, "name")
    )


def _outcomes(protocol: dict) -> tuple[OutcomeRecord, ...]:
    module = _get(protocol, "outcomesModule", default={})
    outcomes = []
    for kind, key in (
        (OutcomeKind.PRIMARY, "primaryOutcomes"),
        (OutcomeKind.SECONDARY, "secondaryOutcomes"),
        (OutcomeKind.OTHER, "otherOutcomes"),
    ):
        outcomes += [
            OutcomeRecord(
                kind=kind,
                measure=n.clean(_get(item, "measure")),
                time_frame=n.clean(_get(item, "timeFrame")),
                description=n.clean_block(_get(item, "description")),
            )
            for item in _get(module, key, default=[])
            if _get(item, "measure")
        ]
    return tuple(outcomes)


def _sites(protocol: dict) -> tuple[SiteRecord, ...]:
    return tuple(
        SiteRecord(
            facility=n.clean(_get(site, "facility")),
            city=n.clean(_get(site, "city")),
            region=n.clean(_get(site, "state")),
            country=n.clean(_get(site, "country")),
            status=n.clean(_get(site, "status")),
        )
        for site in _get(protocol, "contactsLocationsModule", "locations", default=[])
    )


def _sponsors(module: dict) -> tuple[SponsorRecord, ...]:
    lead = _get(module, "leadSponsor")
    sponsors = []
    if _get(lead, "name"):
        sponsors.append(
            SponsorRecord(name=n.clean(lead["name"]), role=SponsorRole.LEAD, agency_class=n.clean(_get(lead, "class")))
        )
    sponsors += [
        SponsorRecord(
            name=n.clean(item["name"]), role=SponsorRole.COLLABORATOR, agency_class=n.clean(_get(item, "class"))
        )
        for item in _get(module, "collaborators", default=[])
        if _get(item, "name")
    ]
    return tuple(sponsors)


def _contacts(protocol: dict) -> tuple[ContactRecord, ...]:
    module = _get(protocol, "contactsLocationsModule", default={})
    contacts = [
        ContactRecord(
            role=n.clean(_get(person, "role")) or "CONTACT",
            name=n.clean(_get(person, "name")),
            phone=" ".join(filter(None, [n.clean(_get(person, "phone")), n.clean(_get(person, "phoneExt"))])),
            email=n.clean(_get(person, "email")),
        )
        for person in _get(module, "centralContacts", default=[])
    ]
    contacts += [
        ContactRecord(
            role=n.clean(_get(person, "role")) or "OFFICIAL",
            name=n.clean(_get(person, "name")),
            affiliation=n.clean(_get(person, "affiliation")),
        )
        for person in _get(module, "overallOfficials", default=[])
    ]
    return tuple(contacts)


def _identifiers(ident: dict) -> tuple[IdentifierRecord, ...]:
    identifiers = []
    org_id = n.clean(_get(ident, "orgStudyIdInfo", "id"))
    if org_id:
        issuer = n.clean(_get(ident, "organization", "fullName"))
        identifiers.append(IdentifierRecord(value=org_id, type="org_study_id", issuer=issuer))
    for item in _get(ident, "secondaryIdInfos", default=[]):
        value = n.clean(_get(item, "id"))
        registry = registry_of(value)
        if registry and canonical(value) != _get(ident, "nctId"):
            # The same trial in another registry (ChiCTR, ISRCTN, EudraCT...): the link between the two.
            identifiers.append(IdentifierRecord(value=canonical(value), type="registry", issuer=registry))
        elif value and not registry:
            identifiers.append(
                IdentifierRecord(
                    value=value, type=n.clean(_get(item, "type")) or "secondary", issuer=n.clean(_get(item, "domain"))
                )
            )
    return tuple(identifiers)
