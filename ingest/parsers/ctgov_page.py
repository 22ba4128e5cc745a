"""ClinicalTrials.gov study pages saved as text, compact (values only) or labelled.

Each section starts with a heading and a one-line blurb. The compact layout drops the labels, so
values are recognised by their vocabulary (RECRUITING, PHASE2, "30 participants", dates, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from trials.choices import (
    Allocation,
    CriterionKind,
    InterventionModel,
    Masking,
    PrimaryPurpose,
    Registry,
    Sex,
    SponsorRole,
    Status,
    StudyType,
)

from .. import normalize as n
from ..records import (
    ArmRecord,
    ConditionRecord,
    ContactRecord,
    CriterionRecord,
    IdentifierRecord,
    InterventionRecord,
    ParseError,
    SiteRecord,
    SponsorRecord,
    TrialRecord,
)

FORMAT = "ctgov-page"
PARSER_VERSION = "ctgov-page/1"

HEADINGS = (
    "Study Results",
    "Basic Information",
    "Brief Summary",
    "Related Clinical Trials",
    "Detailed Description",
    "Conditions",
    "Keywords",
    "Study Design",
    "Study Groups",
    "Interventions",
    "Outcome Measures",
    "Eligibility Criteria",
    "Sponsors",
    "Collaborators",
    "Responsible Party",
    "Principal Investigators",
    "Study Officials",
    "Locations",
    "Countries",
    "Central Contacts",
    "Facility Contacts",
    "Other Identifiers",
    "More Related Trials",
)
LAST_HEADING = "More Related Trials"
_BLURB_VERBS = re.compile(
    r"^(Get|Review|Explore|Dive|See|Understand|Learn|Check|Meet|Identify|Reach|Find|Additional)\b"
)
_AGENCY_CLASSES = {"OTHER", "INDUSTRY", "NIH", "FED", "OTHER_GOV", "INDIV", "NETWORK", "AMBIG", "UNKNOWN", "NLM"}
_AGE = re.compile(r"^\d+(\.\d+)?\s+(Years?|Months?|Weeks?|Days?|Hours?|Minutes?)$|^N/A$", re.I)
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")

_LABELS = {
    "Recruitment Status": "status",
    "Clinical Phase": "phase",
    "Total Enrollment": "enrollment",
    "Study Classification": "study_type",
    "Study Start Date": "start",
    "Primary Completion Date": "primary_completion",
    "Study Completion Date": "completion",
    "Allocation Method": "allocation",
    "Intervention Model": "model",
    "Primary Study Purpose": "purpose",
    "Blinding Strategy": "masking",
    "Minimum Eligible Age": "min_age",
    "Maximum Eligible Age": "max_age",
    "Eligible Sex": "sex",
    "Accepts Healthy Volunteers": "healthy",
}


def looks_like(text: str) -> bool:
    return bool(re.search(r"^NCT ID:\s*NCT\d{8}\s*$", text, re.M)) and "Eligibility Criteria" in text


def _sections(lines: list[str]) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for index, line in enumerate(lines):
        if line in HEADINGS:
            current = line
            sections[current] = []
            continue
        after_heading = index > 0 and lines[index - 1] in HEADINGS
        if after_heading and _BLURB_VERBS.match(line) and line.endswith("."):
            continue
        sections[current].append(line)
    return sections


def _labelled(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Pull "Label" / value pairs out of a section; the lines left are unlabelled values."""
    values, rest = {}, []
    index = 0
    while index < len(lines):
        key = _LABELS.get(lines[index])
        if key and index + 1 < len(lines):
            values[key] = lines[index + 1]
            index += 2
        else:
            rest.append(lines[index])
            index += 1
    return values, rest


def parse(payload: bytes) -> Iterator[TrialRecord]:
    """Yield the one trial of a ClinicalTrials.gov study page saved as text."""
    text = n.decode_text(payload)
    lines = [n.clean(n.unescape_markdown(line)) for line in text.splitlines()]
    lines = [line for line in lines if line]
    match = re.search(r"^NCT ID:\s*(NCT\d{8})\s*$", text, re.M)
    if not match:
        raise ParseError("no 'NCT ID: NCT########' line found")
    if LAST_HEADING not in lines:
        raise ParseError(f"the page ends before its last section '{LAST_HEADING}'; the file looks truncated")
    nct_id = match.group(1)
    sections = _sections(lines)
    header = sections[""]
    basic = _basic(sections.get("Basic Information", []))
    design = _design(sections.get("Study Design", []))
    interventions = _interventions(sections.get("Interventions", []))
    arms, links = _arms(sections.get("Study Groups", []), interventions)
    criteria, eligibility = _eligibility(sections.get("Eligibility Criteria", []))
    last_update = next((line.split(":", 1)[1] for line in header if line.startswith("Last Updated:")), "")
    study_results = " ".join(sections.get("Study Results", []))

    yield TrialRecord(
        registry=Registry.CTGOV,
        registry_id=nct_id,
        source=payload,
        source_format=FORMAT,
        parser_version=PARSER_VERSION,
        source_url=f"https://clinicaltrials.gov/study/{nct_id}",
        public_title=header[0] if header and not header[0].startswith("NCT ID") else "",
        status=basic.get("status", ""),
        status_text=basic.get("status", ""),
        study_type=basic.get("study_type", ""),
        study_type_text=basic.get("study_type", ""),
        phases=n.phases_from(basic.get("phase")),
        phase_text=basic.get("phase", ""),
        allocation=design.get("allocation", ""),
        intervention_model=design.get("model", ""),
        primary_purpose=design.get("purpose", ""),
        masking=design.get("masking", ""),
        enrollment_target=n.parse_int(basic.get("enrollment")),
        last_update_date=n.parse_date(last_update),
        start_date=n.parse_date(basic.get("start")),
        primary_completion_date=n.parse_date(basic.get("primary_completion")),
        completion_date=n.parse_date(basic.get("completion")),
        brief_summary="\n\n".join(sections.get("Brief Summary", [])),
        description="\n\n".join(sections.get("Detailed Description", [])),
        responsible_party=_responsible_party(sections.get("Responsible Party", [])),
        has_results=bool(study_results) and "not published" not in study_results.lower(),
        min_age_years=n.parse_age(eligibility.get("min_age")),
        max_age_years=n.parse_age(eligibility.get("max_age")),
        min_age_text=eligibility.get("min_age", ""),
        max_age_text=eligibility.get("max_age", ""),
        sex=n.sex_from(eligibility.get("sex")),
        sex_text=eligibility.get("sex", ""),
        healthy_volunteers=n.yes_no(eligibility.get("healthy")),
        eligibility_text=eligibility.get("text", ""),
        conditions=tuple(ConditionRecord(name=line) for line in sections.get("Conditions", [])),
        arms=arms,
        interventions=tuple(
            InterventionRecord(
                name=item.name,
                type=item.type,
                type_text=item.type_text,
                description=item.description,
                arm_labels=links.get(item.name, ()),
            )
            for item in interventions
        ),
        criteria=criteria,
        sites=_sites(sections.get("Locations", []), sections.get("Countries", [])),
        sponsors=_sponsors(sections.get("Sponsors", []) + sections.get("Collaborators", [])),
        contacts=_contacts(sections.get("Principal Investigators", []), "PRINCIPAL_INVESTIGATOR")
        + _contacts(sections.get("Central Contacts", []), "CONTACT")
        + _contacts(sections.get("Facility Contacts", []), "FACILITY_CONTACT"),
        identifiers=_identifiers(sections.get("Other Identifiers", [])),
    )


def _basic(lines: list[str]) -> dict[str, str]:
    values, rest = _labelled(lines)
    dates = []
    for line in rest:
        upper = line.upper()
        if upper in Status.values and "status" not in values:
            values["status"] = upper
        elif upper in StudyType.values and "study_type" not in values:
            values["study_type"] = upper
        elif re.fullmatch(r"[\d,]+ participants?", line, re.I):
            values["enrollment"] = line
        elif _DATE.match(line):
            dates.append(line)
        elif n.phases_from(line) and "phase" not in values:
            values["phase"] = line
    if "status" in values:
        values["status"] = n.status_from(values["status"]) or values["status"]
    if "study_type" in values:
        values["study_type"] = n.study_type_from(values["study_type"])
    # Unlabelled dates come in page order: start, then completion (with primary completion between).
    keys = {1: ("start",), 2: ("start", "completion"), 3: ("start", "primary_completion", "completion")}
    for key, value in zip(keys.get(len(dates), ()), dates, strict=False):
        values.setdefault(key, value)
    return values


def _design(lines: list[str]) -> dict[str, str]:
    values, rest = _labelled(lines)
    vocabularies = (
        ("allocation", Allocation.values),
        ("model", InterventionModel.values),
        ("purpose", PrimaryPurpose.values),
        ("masking", Masking.values),
    )
    for line in rest:
        for key, vocabulary in vocabularies:
            if line.upper() in vocabulary and key not in values:
                values[key] = line.upper()
                break
    return {key: value.upper() for key, value in values.items()}


class _Intervention:
    def __init__(self, name: str) -> None:
        self.name = name
        self.type = self.type_text = self.description = ""


def _interventions(lines: list[str]) -> list[_Intervention]:
    """Labelled: name, description, "Intervention Type X"; compact: name, description pairs."""
    items: list[_Intervention] = []
    typed = any(line.startswith("Intervention Type ") for line in lines)
    current: _Intervention | None = None
    for line in lines:
        if line.startswith("Intervention Type "):
            if current:
                current.type_text = line.removeprefix("Intervention Type ").strip()
                current.type = current.type_text.upper()
                current = None
        elif current is None:
            current = _Intervention(line)
            items.append(current)
        else:
            current.description = f"{current.description}\n\n{line}".strip()
            if not typed:
                current = None
    return items


def _arms(lines: list[str], interventions: list[_Intervention]) -> tuple[tuple[ArmRecord, ...], dict]:
    """Arms and, per intervention name, the arm labels that list it."""
    by_name = {item.name: item for item in interventions}
    descriptions = {item.description for item in interventions}
    arms: list[dict] = []
    links: dict[str, tuple[str, ...]] = {}
    in_interventions = False
    for line in lines:
        if line.startswith("Group Type "):
            if arms:
                arms[-1]["type"] = line.removeprefix("Group Type ").strip()
        elif line in by_name and arms:
            links[line] = (*links.get(line, ()), arms[-1]["label"])
            in_interventions = True
        elif line.startswith("Intervention Type ") or (in_interventions and line in descriptions):
            continue
        elif not arms or in_interventions or arms[-1]["description"]:
            arms.append({"label": line, "description": "", "type": ""})
            in_interventions = False
        else:
            arms[-1]["description"] = line
    return (
        tuple(
            ArmRecord(
                label=arm["label"], description=arm["description"], type=arm["type"].upper(), type_text=arm["type"]
            )
            for arm in arms
        ),
        links,
    )


def _eligibility(lines: list[str]) -> tuple[tuple[CriterionRecord, ...], dict[str, str]]:
    values, rest = _labelled(lines)
    # The compact layout ends with unlabelled ages, sex and healthy volunteers after the criteria.
    trailing: list[str] = []
    while rest and (_AGE.match(rest[-1]) or rest[-1].upper() in Sex.values or rest[-1] in {"Yes", "No"}):
        trailing.insert(0, rest.pop())
    ages = [line for line in trailing if _AGE.match(line)]
    for key, line in zip(("min_age", "max_age"), ages, strict=False):
        values.setdefault(key, line)
    for line in trailing:
        if line.upper() in Sex.values:
            values.setdefault("sex", line.upper())
        elif line in {"Yes", "No"}:
            values.setdefault("healthy", line)
    kinds = {"inclusion criteria": CriterionKind.INCLUSION, "exclusion criteria": CriterionKind.EXCLUSION}
    criteria, kind = [], None
    for line in rest:
        heading = line.lower().rstrip(":")
        if heading in kinds:
            kind = kinds[heading]
            continue
        for text in n.split_criteria(line):
            criteria.append(CriterionRecord(kind=kind or CriterionKind.INCLUSION, text=text))
    values["text"] = "\n".join(rest)
    return tuple(criteria), values


def _responsible_party(lines: list[str]) -> str:
    role = next(
        (line.removeprefix("Responsibility Role ") for line in lines if line.startswith("Responsibility Role ")), ""
    )
    text = ", ".join(line for line in lines if not line.startswith("Responsibility Role "))
    return f"{text} ({role})" if text and role else text or role


def _sites(locations: list[str], countries: list[str]) -> tuple[SiteRecord, ...]:
    sites: list[dict] = []
    for line in locations:
        if line.startswith("Site Status "):
            if sites:
                sites[-1]["status"] = line.removeprefix("Site Status ").strip()
        elif sites and not sites[-1]["place"] and "," in line:
            sites[-1]["place"] = line
        else:
            sites.append({"facility": line, "place": "", "status": ""})
    records = []
    for site in sites:
        parts = [part.strip() for part in site["place"].split(",")]
        records.append(
            SiteRecord(
                facility=site["facility"],
                city=parts[0] if len(parts) > 1 else "",
                region=", ".join(parts[1:-1]),
                country=parts[-1] if parts[-1] else "",
                status=site["status"],
            )
        )
    listed = {record.country for record in records}
    # Countries named without a site are kept as sites known only by their country.
    records += [SiteRecord(country=country) for country in countries if country not in listed]
    return tuple(records)


def _sponsors(lines: list[str]) -> tuple[SponsorRecord, ...]:
    sponsors: list[dict] = []
    for line in lines:
        if line.startswith("Sponsor Role "):
            if sponsors:
                sponsors[-1]["role"] = line.removeprefix("Sponsor Role ").strip().lower()
        elif line in _AGENCY_CLASSES and sponsors and not sponsors[-1]["class"]:
            sponsors[-1]["class"] = line
        else:
            sponsors.append({"name": line, "class": "", "role": ""})
    if sponsors and not any(sponsor["role"] for sponsor in sponsors):
        # Without roles the page lists the lead sponsor first, as the registry does.
        sponsors[0]["role"] = SponsorRole.LEAD
        for sponsor in sponsors[1:]:
            sponsor["role"] = SponsorRole.COLLABORATOR
    return tuple(
        SponsorRecord(name=sponsor["name"], role=sponsor["role"], agency_class=sponsor["class"]) for sponsor in sponsors
    )


def _contacts(lines: list[str], default_role: str) -> tuple[ContactRecord, ...]:
    """Each contact is a name followed by "Role: X", then phone, e-mail or affiliation lines."""
    contacts: list[dict] = []
    for index, line in enumerate(lines):
        if line.startswith("Role:"):
            continue
        if index + 1 < len(lines) and lines[index + 1].startswith("Role:"):
            role = lines[index + 1].removeprefix("Role:").strip()
            contacts.append({"name": line, "role": role or default_role, "phone": "", "email": "", "affiliation": ""})
        elif contacts:
            key = "email" if "@" in line else "phone" if re.fullmatch(r"[\d\s()+\-.ext]+", line) else "affiliation"
            contacts[-1][key] = f"{contacts[-1][key]} {line}".strip()
    return tuple(ContactRecord(**contact) for contact in contacts)


def _identifiers(lines: list[str]) -> tuple[IdentifierRecord, ...]:
    identifiers: list[dict] = []
    for line in lines:
        if line.startswith("Identifier Type:"):
            kind = line.removeprefix("Identifier Type:").strip()
            if identifiers and kind not in {"", "-"}:
                identifiers[-1]["type"] = kind
        elif line.startswith("Identifier Source:"):
            if identifiers and not identifiers[-1]["type"]:
                identifiers[-1]["type"] = line.removeprefix("Identifier Source:").strip()
        elif line.startswith("Identifier Link:"):
            continue
        else:
            identifiers.append({"value": line, "type": ""})
    return tuple(IdentifierRecord(value=item["value"], type=item["type"] or "secondary") for item in identifiers)
