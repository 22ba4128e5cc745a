"""ClinicalTrials.gov API v2 studies (``protocolSection`` / ``derivedSection``) as JSON."""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
import orjson

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
    UnparsedRecord,
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


def parse_stream(stream: BinaryIO, *, deferred: bool = False) -> Iterator[TrialRecord | RecordFailure | UnparsedRecord]:
    """Like parse, reading arrays, pages and JSON Lines incrementally, one study in memory at a time.

    With `deferred`, the studies of JSON Lines are yielded unparsed, for the process that writes them to parse."""
    head, stream = head_of(stream, HEAD_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))
        head = head[len(codecs.BOM_UTF8) :]
    elif n.detect_encoding(head) != "utf-8":
        # The API writes UTF-8; another encoding means a file someone re-saved, small enough to read whole.
        payload = n.decode_text(stream.read(MAX_STUDY_BYTES)).encode()
        return _studies(io.BytesIO(payload), payload[:HEAD_BYTES], deferred)
    return _studies(stream, head, deferred)


def _studies(stream: BinaryIO, head: bytes, deferred: bool) -> Iterator[TrialRecord | RecordFailure | UnparsedRecord]:
    start = head.lstrip()[:1]
    if start == b"[":
        yield from _items(stream, "item")
    elif start != b"{":
        raise ParseError("not JSON: a ClinicalTrials.gov export starts with { or [")
    elif _is_json_lines(head):
        yield from _json_lines(stream, deferred)
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


def _json_lines(stream: BinaryIO, deferred: bool) -> Iterator[TrialRecord | RecordFailure | UnparsedRecord]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield UnparsedRecord(json_line_record, line, number) if deferred else json_line_record(line, number)


def json_line_record(line: bytes, number: int) -> TrialRecord | RecordFailure:
    """The record of one line of JSON Lines."""
    try:
        study = _loads(line)
    except ValueError as error:
        return RecordFailure(f"line {number}", f"broken JSON: {error}")
    return _record_or_failure(study, line.rstrip(b"\r\n"), f"line {number}")


# Every digit to "0": a run of digits becomes a run of zeros, found by one substring search.
_DIGITS_TO_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def _loads(line: bytes) -> Any:
    """One JSON document decoded exactly as json.loads decodes it, by orjson (several times faster) where it can."""
    # orjson refuses some of what json accepts (NaN, a BOM, lone surrogates, numbers beyond a double): json then
    # decides, with its own error messages. It reads integers beyond 64 bits as floats, and those need 19 digits.
    if _LONG_NUMBER not in line.translate(_DIGITS_TO_ZEROS):
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line)


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


# _get costs a function call per field, and a study has a few hundred: a module or list item made a dict once is
# read with dict.get instead, which gives what _get gives (None for a field absent or null).
def _object(value: Any) -> dict:
    """A JSON object, or an empty one in place of anything else: its fields then read as absent, as _get reads them."""
    return value if isinstance(value, dict) else {}


def _objects(items: Any) -> list[dict]:
    """The items of a JSON list, each read as _object reads it."""
    return [item if isinstance(item, dict) else {} for item in items]


def study_record(
    study: Any, source: bytes, *, source_format: str = FORMAT, parser_version: str = PARSER_VERSION, position: str = ""
) -> TrialRecord:
    """The record of one API v2 study given as a decoded dict."""
    protocol = _get(study, "protocolSection")
    nct_id = _get(protocol, "identificationModule", "nctId")
    if not isinstance(protocol, dict) or not nct_id:
        where = f" ({position})" if position else ""
        raise ParseError(f"not a ClinicalTrials.gov study{where}: no protocolSection.identificationModule.nctId")

    ident = _object(protocol.get("identificationModule"))
    status = _object(protocol.get("statusModule"))
    design = _object(protocol.get("designModule"))
    design_info = _object(design.get("designInfo"))
    masking = _object(design_info.get("maskingInfo"))
    enrollment = _object(design.get("enrollmentInfo"))
    eligibility = _object(protocol.get("eligibilityModule"))
    description = _object(protocol.get("descriptionModule"))
    oversight = _object(protocol.get("oversightModule"))
    ipd = _object(protocol.get("ipdSharingStatementModule"))
    sponsors = _object(protocol.get("sponsorCollaboratorsModule"))
    criteria_text = n.unescape_markdown(_get(eligibility, "eligibilityCriteria", default=""))
    eligibility_text, criteria = n.eligibility_text_and_criteria(criteria_text)
    enrollment_count = n.parse_int(enrollment.get("count"))
    actual = str(_get(enrollment, "type", default="")).upper() == "ACTUAL"
    registered = n.parse_date(status.get("studyFirstSubmitDate"))
    started = n.parse_date(_get(status, "startDateStruct", "date"))

    return TrialRecord(
        registry=Registry.CTGOV,
        registry_id=nct_id,
        source=source,
        source_format=source_format,
        parser_version=parser_version,
        source_url=f"https://clinicaltrials.gov/study/{nct_id}",
        public_title=n.clean(ident.get("briefTitle")),
        scientific_title=n.clean(ident.get("officialTitle")),
        acronym=n.clean(ident.get("acronym")),
        status=n.status_from(status.get("overallStatus")),
        status_text=n.clean(status.get("overallStatus")),
        study_type=n.study_type_from(design.get("studyType")),
        study_type_text=n.clean(design.get("studyType")),
        phases=tuple(phase for value in _get(design, "phases", default=[]) for phase in n.phases_from(value)),
        phase_text=", ".join(_get(design, "phases", default=[])),
        allocation=n.allocation_from(design_info.get("allocation")),
        intervention_model=n.intervention_model_from(design_info.get("interventionModel")),
        observational_model=n.clean(design_info.get("observationalModel")),
        time_perspective=n.clean(design_info.get("timePerspective")),
        masking=n.masking_from(masking.get("masking")),
        who_masked=tuple(_get(masking, "whoMasked", default=[])),
        primary_purpose=n.clean(design_info.get("primaryPurpose")),
        design_text=n.clean_block(design_info.get("interventionModelDescription")),
        blinding_text=n.clean_block(masking.get("maskingDescription")),
        enrollment_target=None if actual else enrollment_count,
        enrollment_actual=enrollment_count if actual else None,
        registration_date=registered,
        first_posted_date=n.parse_date(_get(status, "studyFirstPostDateStruct", "date")),
        last_update_date=n.parse_date(_get(status, "lastUpdatePostDateStruct", "date")),
        start_date=started,
        primary_completion_date=n.parse_date(_get(status, "primaryCompletionDateStruct", "date")),
        completion_date=n.parse_date(_get(status, "completionDateStruct", "date")),
        registration_timing=n.registration_timing(registered, started),
        brief_summary=_markdown(description.get("briefSummary")),
        description=_markdown(description.get("detailedDescription")),
        has_dmc=oversight.get("oversightHasDmc"),
        ipd_sharing=n.clean(ipd.get("ipdSharing")).upper(),
        ipd_sharing_text=n.clean(ipd.get("ipdSharing")),
        ipd_sharing_description=n.clean_block(ipd.get("description")),
        responsible_party=_responsible_party(_get(sponsors, "responsibleParty", default={})),
        has_results=bool(_get(study, "hasResults", default=False) or _get(study, "resultsSection")),
        min_age_years=n.parse_age(eligibility.get("minimumAge")),
        max_age_years=n.parse_age(eligibility.get("maximumAge")),
        min_age_text=n.clean(eligibility.get("minimumAge")),
        max_age_text=n.clean(eligibility.get("maximumAge")),
        sex=n.sex_from(eligibility.get("sex")),
        sex_text=n.clean(eligibility.get("sex")),
        healthy_volunteers=eligibility.get("healthyVolunteers"),
        eligibility_text=eligibility_text,
        conditions=_conditions(protocol, study),
        keywords=tuple(
            KeywordRecord(name=word)
            for word in map(n.clean, _get(protocol, "conditionsModule", "keywords", default=[]))
            if word
        ),
        arms=_arms(protocol),
        interventions=_interventions(protocol),
        outcomes=_outcomes(protocol),
        criteria=criteria,
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
        ConditionRecord(name=name)
        for name in map(n.clean, _get(protocol, "conditionsModule", "conditions", default=[]))
        if name
    ]
    mesh = [
        ConditionRecord(name=n.clean(term.get("term")), code=n.clean(term.get("id")), vocabulary="MeSH")
        for term in _objects(_get(study, "derivedSection", "conditionBrowseModule", "meshes", default=[]))
        if term.get("term")
    ]
    return tuple(own + mesh)


def _arms(protocol: dict) -> tuple[ArmRecord, ...]:
    return tuple(
        ArmRecord(
            label=n.clean(arm.get("label")),
            type=n.clean(arm.get("type")).upper(),
            type_text=n.clean(arm.get("type")),
            description=n.clean_block(arm.get("description")),
        )
        for arm in _objects(_get(protocol, "armsInterventionsModule", "armGroups", default=[]))
        if arm.get("label")
    )


def _interventions(protocol: dict) -> tuple[InterventionRecord, ...]:
    return tuple(
        InterventionRecord(
            name=n.clean(item.get("name")),
            type=n.clean(item.get("type")).upper(),
            type_text=n.clean(item.get("type")),
            description=n.clean_block(item.get("description")),
            arm_labels=tuple(n.clean(label) for label in _get(item, "armGroupLabels", default=[])),
        )
        for item in _objects(_get(protocol, "armsInterventionsModule", "interventions", default=[]))
        if item.get("name")
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
                measure=n.clean(item.get("measure")),
                time_frame=n.clean(item.get("timeFrame")),
                description=n.clean_block(item.get("description")),
            )
            for item in _objects(_get(module, key, default=[]))
            if item.get("measure")
        ]
    return tuple(outcomes)


def _sites(protocol: dict) -> tuple[SiteRecord, ...]:
    return tuple(
        SiteRecord(
            facility=n.clean(site.get("facility")),
            city=n.clean(site.get("city")),
            region=n.clean(site.get("state")),
            country=n.clean(site.get("country")),
            status=n.clean(site.get("status")),
        )
        for site in _objects(_get(protocol, "contactsLocationsModule", "locations", default=[]))
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
            role=n.clean(person.get("role")) or "CONTACT",
            name=n.clean(person.get("name")),
            phone=" ".join(filter(None, [n.clean(person.get("phone")), n.clean(person.get("phoneExt"))])),
            email=n.clean(person.get("email")),
        )
        for person in _objects(_get(module, "centralContacts", default=[]))
    ]
    contacts += [
        ContactRecord(
            role=n.clean(person.get("role")) or "OFFICIAL",
            name=n.clean(person.get("name")),
            affiliation=n.clean(person.get("affiliation")),
        )
        for person in _objects(_get(module, "overallOfficials", default=[]))
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
