"""A WHO ICTRP trial record (the fields of its XML and CSV exports, ChiCTR's own XML) as a TrialRecord.

ICTRP flattens every registry into one set of text fields, and each field keeps the conventions of
the registry it came from: ChiCTR's ``group:size;`` lists, EU CTR's ``Label: yes<br>`` blocks,
ClinicalTrials.gov's ``Allocation: ... Masking: ...`` sentences, CTRI's ``Timepoint:`` suffixes. The
readers here recognise those shapes by their text, whatever the registry.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from itertools import zip_longest
from typing import Any

from trials.choices import (
    Allocation,
    CriterionKind,
    InterventionModel,
    InterventionType,
    Masking,
    OutcomeKind,
    PrimaryPurpose,
    RegistrationTiming,
    Registry,
    Sex,
    SponsorRole,
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
    KeywordRecord,
    OutcomeRecord,
    ParseError,
    RecordFailure,
    SiteRecord,
    SponsorRecord,
    TrialRecord,
)
from ..registries import canonical, registry_of, trial_ids_in, trial_url

# Other exports' names for the same fields (later ICTRP CSV headers, the data-provider XML).
FIELD_ALIASES = {
    "date_enrolment": "date_enrollement",
    "source_name": "source_support",
    "secondary_ids": "secondary_id",
    "ethics_status": "ethics_review_status",
    "ethics_approval_date": "ethics_review_approval_date",
    "ethics_contact_name": "ethics_review_contact_name",
    "ethics_contact_address": "ethics_review_contact_address",
    "ethics_contact_phone": "ethics_review_contact_phone",
    "ethics_contact_email": "ethics_review_contact_email",
}

_CHICTR_REGISTRIES = (Registry.CHICTR, Registry.ITMCTR)

# Values that say a field is empty.
_NOTHING = {"", "none", "n/a", "na", "nil", "no", "null", "not applicable", "-", "/", "?", "??", "nd", "无", "0"}

_RESULT_FIELDS = (
    "results_date_posted",
    "results_url_link",
    "results_summary",
    "results_date_first_publication",
    "results_baseline_char",
    "results_participant_flow",
    "results_adverse_events",
    "results_outcome_measures",
)

# Fields read into the record; all others are kept in ``extra``.
_MAPPED = {
    "trialid",
    "last_refreshed_on",
    "public_title",
    "scientific_title",
    "acronym",
    "scientific_acronym",
    "primary_sponsor",
    "date_registration",
    "date_registration3",
    "web_address",
    "recruitment_status",
    "inclusion_agemin",
    "inclusion_agemax",
    "inclusion_gender",
    "date_enrollement",
    "type_enrolment",
    "target_size",
    "study_type",
    "study_design",
    "phase",
    "countries",
    "contact_firstname",
    "contact_lastname",
    "contact_address",
    "contact_email",
    "contact_tel",
    "contact_affiliation",
    "inclusion_criteria",
    "exclusion_criteria",
    "condition",
    "intervention",
    "primary_outcome",
    "secondary_outcome",
    "secondary_id",
    "secondary_sponsor",
    "source_support",
    "ethics_review_status",
    "ethics_review_approval_date",
    "ethics_review_contact_name",
    "ethics_review_contact_address",
    "ethics_review_contact_phone",
    "ethics_review_contact_email",
    "ethics_review_committee",
    "results_date_completed",
    "results_actual_enrolment",
    "results_yes_no",
    "results_ipd_plan",
    "results_ipd_description",
    "retrospective_flag",
    "prospective_registration",
}


def field_key(name: str) -> str:
    """The one key of an ICTRP field however an export spells it: "Date enrollement" and "Date_enrollement"."""
    key = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    return FIELD_ALIASES.get(key, key)


def record_or_failure(
    fields: Mapping[str, str], *, number: int, line: int | None = None, **details: Any
) -> TrialRecord | RecordFailure:
    """The record of one trial's fields, or the failure that names it so that the file can go on.

    ``details`` are ``trial_record``'s keyword arguments.
    """
    try:
        return trial_record(fields, **details)
    except Exception as error:  # one unreadable record must not stop an export of a million
        trial_id = n.html_line(fields.get("trialid"))
        position = f"record {number} ({trial_id})" if trial_id else f"record {number}"
        reason = str(error) if isinstance(error, ParseError) else f"{type(error).__name__}: {error}"
        return RecordFailure(position=f"{position} at line {line}" if line else position, reason=reason)


def trial_record(
    fields: Mapping[str, str],
    *,
    source: bytes,
    source_format: str,
    parser_version: str,
    contacts: Iterable[Mapping[str, str]] | None = None,
    secondary_ids: Iterable[tuple[str, str]] | None = None,
    keywords: Iterable[str] = (),
) -> TrialRecord:
    """The record of one trial given as ICTRP fields keyed by ``field_key``.

    Formats that keep contacts and secondary ids apart (rows of firstname/lastname/..., and (id, issuer)
    pairs) pass them as such; otherwise they are read from ICTRP's flat ";"-separated fields.
    """
    trial_id = canonical(n.html_line(fields.get("trialid")))
    if not trial_id:
        raise ParseError("no TrialID")
    registry = registry_of(trial_id) or Registry.OTHER
    line = _line_reader(fields)

    def block(key: str) -> str:
        return n.html_text(fields.get(key))

    study_type_text = line("study_type")
    study_type = n.study_type_from(study_type_text)
    # CTRI separates its design's labelled parts by runs of spaces only.
    design = n.html_text(re.sub(r"(?<=[^\s>])[ \t]{2,}(?=[^\s<])", "\n", _get(fields, "study_design")))
    phases, phase_text = _phases(block("phase"))
    groups, enrollment, size_read = _target_size(line("target_size"))
    arms, interventions = _arms_and_interventions(block("intervention"), groups, registry)
    actual = line("type_enrolment").lower() == "actual"
    inclusion, exclusion, age_groups = _criteria_texts(block("inclusion_criteria"), block("exclusion_criteria"))
    min_age, max_age = _age_limits(line("inclusion_agemin"), line("inclusion_agemax"), age_groups)
    primary_objectives, primary_outcomes = _outcomes(OutcomeKind.PRIMARY, block("primary_outcome"))
    secondary_objectives, secondary_outcomes = _outcomes(OutcomeKind.SECONDARY, block("secondary_outcome"))
    extra = {key: text for key, value in fields.items() if key not in _MAPPED and (text := n.html_text(value))}
    extra |= {"target_size": line("target_size")} if not size_read else {}
    extra |= {"age_groups": age_groups} if age_groups else {}
    if secondary_ids is None:
        secondary_ids = [(value, "") for value in _list(line("secondary_id"))]
    return TrialRecord(
        registry=registry,
        registry_id=trial_id,
        source=source,
        source_format=source_format,
        parser_version=parser_version,
        source_url=line("web_address") or trial_url(trial_id),
        original_language=_original_language(registry, fields),
        **_bilingual("public_title", line("public_title")),
        **_bilingual("scientific_title", line("scientific_title")),
        **_bilingual("acronym", line("acronym") or line("scientific_acronym")),
        status=n.status_from(line("recruitment_status")),
        status_text=line("recruitment_status"),
        study_type=study_type,
        study_type_text=study_type_text,
        phases=phases,
        phase_text=phase_text,
        **_bilingual("design_text", design),
        **_design(design, study_type, study_type_text),
        enrollment_target=None if actual else enrollment,
        enrollment_actual=n.parse_int(line("results_actual_enrolment")) or (enrollment if actual else None),
        registration_date=n.parse_date(line("date_registration3")) or n.parse_date(line("date_registration")),
        last_update_date=n.parse_date(line("last_refreshed_on")),
        # ICTRP's "date of first enrolment" is when recruitment, and so the study, started.
        start_date=n.parse_date(line("date_enrollement")),
        recruitment_start_date=n.parse_date(line("date_enrollement")),
        completion_date=n.parse_date(line("results_date_completed")),
        registration_timing=_timing(line("retrospective_flag"), line("prospective_registration")),
        objectives="\n\n".join(part for part in (primary_objectives, secondary_objectives) if part),
        **_ethics(fields),
        **_bilingual("funding", "; ".join(_list(line("source_support")))),
        has_results=n.yes_no(line("results_yes_no")) is True or any(_meaningful(line(key)) for key in _RESULT_FIELDS),
        ipd_sharing=_ipd_sharing(line("results_ipd_plan")),
        ipd_sharing_text=line("results_ipd_plan"),
        ipd_sharing_description=block("results_ipd_description"),
        min_age_years=min_age,
        max_age_years=max_age,
        min_age_text=line("inclusion_agemin"),
        max_age_text=line("inclusion_agemax"),
        sex=_sex(line("inclusion_gender")),
        sex_text=line("inclusion_gender"),
        **_eligibility_texts(inclusion, exclusion),
        conditions=_conditions(block("condition")),
        keywords=_keywords(keywords),
        arms=arms,
        interventions=interventions,
        outcomes=primary_outcomes + secondary_outcomes,
        criteria=_criteria(CriterionKind.INCLUSION, inclusion) + _criteria(CriterionKind.EXCLUSION, exclusion),
        sites=tuple(SiteRecord(country=country) for country in _countries(line("countries"))),
        sponsors=_sponsors(line("primary_sponsor"), line("secondary_sponsor")),
        contacts=_flat_contacts(fields) if contacts is None else _contacts(contacts, role="contact"),
        identifiers=_identifiers(secondary_ids, trial_id),
        extra=extra,
    )


def _line_reader(fields: Mapping[str, str]) -> Callable[[str], str]:
    """A field as one line of text; each field is cleaned once, however often it is read."""
    lines: dict[str, str] = {}

    def line(key: str) -> str:
        if key not in lines:
            lines[key] = n.html_line(fields.get(key))
        return lines[key]

    return line


# --- text ------------------------------------------------------------------------------------


def _get(fields: Mapping[str, str], key: str) -> str:
    return fields.get(key) or ""


def _languages(text: str) -> tuple[str, str]:
    """The English lines of a text and its original-language (Chinese, Japanese, Korean) lines."""
    if not n.has_cjk(text):
        return text, ""
    english, original = [], []
    for part in text.split("\n"):
        (original if n.has_cjk(part) else english).append(part)
    return "\n".join(english).strip(), "\n".join(original).strip()


def _bilingual(name: str, text: str) -> dict[str, str]:
    """A record field and its ``_original`` twin from one registry text."""
    english, original = _languages(text)
    return {name: english, f"{name}_original": original}


def _original_language(registry: str, fields: Mapping[str, str]) -> str:
    """The language of the record's original-language (CJK) text, where it has any."""
    if not any(n.has_cjk(value) for value in fields.values() if value):
        return ""
    return {Registry.JPRN: "ja", Registry.KCT: "ko"}.get(registry, "zh")


def _meaningful(text: str) -> str:
    return "" if n.clean(text).lower().rstrip(".") in _NOTHING else n.clean(text)


def _list(text: str) -> list[str]:
    """The items of a ";"-separated ICTRP list, meaningless ones dropped."""
    return [item for item in (_meaningful(part) for part in re.split(r"[;；]", text)) if item]


def _unique(values: Iterable[str]) -> list[str]:
    found: dict[str, str] = {}
    for value in values:
        found.setdefault(value.casefold(), value)
    return list(found.values())


# --- design ----------------------------------------------------------------------------------

# "Label: value" pairs as registries write their design: after a full stop, comma, semicolon or line.
# A colon before "//" is a web address, not a label.
_DESIGN_LABEL = re.compile(r"(?:^|(?<=[.,;]))[ \t]*([A-Za-z][A-Za-z ()/-]{1,60}?)[ \t]*:(?!//)", re.M)
_ROLES = (
    ("PARTICIPANT", r"participant|subject|patient"),
    ("CARE_PROVIDER", r"care\s*provider|caregiver"),
    ("INVESTIGATOR", r"investigator"),
    ("OUTCOMES_ASSESSOR", r"outcomes?\s*assessor|assessor"),
)
_MASKING_BY_COUNT = {1: Masking.SINGLE, 2: Masking.DOUBLE, 3: Masking.TRIPLE, 4: Masking.QUADRUPLE}
_TIME_PERSPECTIVES = {"PROSPECTIVE", "RETROSPECTIVE", "CROSS_SECTIONAL", "OTHER"}


def _labelled(text: str) -> tuple[dict[str, str], str]:
    """The labelled values of a design text (label lower-cased), and the unlabelled text before them."""
    matches = list(_DESIGN_LABEL.finditer(text))
    values: dict[str, str] = {}
    for match, following in zip_longest(matches, matches[1:]):
        end = following.start() if following else len(text)
        label = " ".join(match.group(1).lower().split())
        values.setdefault(label, n.clean(text[match.end() : end]).strip(" .,;"))
    return values, text[: matches[0].start()] if matches else text


def _design(text: str, study_type: str, study_type_text: str) -> dict:
    """Allocation, models, masking and purpose from a registry's design wording."""
    labelled, free = _labelled(text)

    def value(*labels: str) -> str:
        return next((labelled[label] for label in labels if labelled.get(label)), "")

    def flag(label: str) -> bool:
        return n.yes_no(labelled.get(label)) is True

    # Allocation and assignment describe interventions; an observational study has neither.
    observational = study_type == StudyType.OBSERVATIONAL
    model = "" if observational else _intervention_model(value, flag, free)
    allocation = "" if observational else _allocation(value, free, model)

    masking_text = value("masking", "blinding", "blinding and masking", "blinding/masking")
    masking, who_masked = _masking(masking_text)
    if not masking_text:
        masking = _eu_masking(flag) or _free_masking(free)

    purpose = n.primary_purpose_from(
        value("primary purpose", "purpose", "study design purpose", "purpose of the study", "study purpose")
    )
    # ChiCTR's study types include purposes ("Prevention", "Diagnostic test"); free text may name one too,
    # but "other" inside free text is just a word.
    purpose = purpose or n.primary_purpose_from(study_type_text)
    if not purpose and n.primary_purpose_from(free) != PrimaryPurpose.OTHER:
        purpose = n.primary_purpose_from(free)

    time_perspective = _code(value("time perspective", "timing"))
    randomization = [
        _meaningful(value(label))
        for label in ("randomization description", "method of generating randomization sequence")
        if _meaningful(value(label))
    ]
    observational_model = _code(value("observational model"))
    return {
        "allocation": allocation,
        "intervention_model": model,
        "observational_model": observational_model or (n.observational_model_from(free) if observational else ""),
        "time_perspective": time_perspective if time_perspective in _TIME_PERSPECTIVES else "",
        "masking": masking,
        "who_masked": who_masked,
        "primary_purpose": purpose,
        "randomization_text": "\n".join(randomization),
        "blinding_text": masking_text,
    }


def _intervention_model(value: Callable[..., str], flag: Callable[[str], bool], free: str) -> str:
    assignment = value("intervention model", "assignment")
    # IRCT writes only the first word: "Assignment: Single".
    model = n.intervention_model_from(assignment) or n.intervention_model_from(f"{assignment} assignment")
    model = model or (InterventionModel.PARALLEL if flag("parallel group") else "")
    model = model or (InterventionModel.CROSSOVER if flag("cross over") else "")
    return model or n.intervention_model_from(free)


def _allocation(value: Callable[..., str], free: str, model: str) -> str:
    labelled = value("allocation", "randomization", "randomisation", "randomized", "randomised")
    if labelled:
        answer = n.yes_no(labelled)  # EU CTR and NTR answer "Randomised: yes"
        answered = {True: Allocation.RANDOMIZED, False: Allocation.NON_RANDOMIZED}.get(answer)
        return answered or n.allocation_from(labelled)
    # Unlabelled text names an allocation only with a form of "randomised"; "na" inside a word is not one.
    found = n.allocation_from(free)
    if found and found != Allocation.NA:
        return found
    return Allocation.NA if model == InterventionModel.SINGLE_GROUP else ""


def _code(text: str) -> str:
    """A registry word as a shared code: "Family-Based" -> "FAMILY_BASED"."""
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def _masking(text: str) -> tuple[str, tuple[str, ...]]:
    """Masking and who is masked from "Double (Participant, Investigator)" or "Participant ... Blinded"."""
    if n.clean(text).lower() in ("", "unknown", "n/a", "na", "not applicable"):
        return "", ()
    roles = tuple(role for role, pattern in _ROLES if re.search(pattern, text, re.I))
    masking = n.masking_from(text)
    if not masking and roles and re.search(r"blind|mask", text, re.I):
        masking = _MASKING_BY_COUNT[len(roles)]
    return masking, roles if masking not in ("", Masking.NONE) else ()


def _eu_masking(flag: Callable[[str], bool]) -> str:
    """EU CTR's yes/no lines: "Double blind: yes", "Single blind: no", "Open: yes"."""
    if flag("double blind"):
        return Masking.DOUBLE
    if flag("single blind"):
        return Masking.SINGLE
    return Masking.NONE if flag("open") else ""


def _free_masking(text: str) -> str:
    match = re.search(r"\b(single|double|triple|quadruple)[\s-]*(?:blind|mask)", text, re.I)
    if match:
        return n.masking_from(match.group(1))
    if re.search(r"\bopen\b|masking not used|not blinded|no masking", text, re.I):
        return Masking.NONE
    return ""


def _phases(text: str) -> tuple[tuple[str, ...], str]:
    """Phases and their registry wording; EU CTR answers yes or no for each phase on its own line."""
    answers = re.findall(r"\((Phase\s+[IV]+)\)\s*:[ \t]*(\w*)", text, re.I)
    if not answers:
        return n.phases_from(text), n.clean(text)
    phases = [phase for label, answer in answers if answer.lower() == "yes" for phase in n.phases_from(label)]
    wording = "; ".join(n.clean(part) for part in text.split("\n") if part.strip())
    return tuple(dict.fromkeys(phases)), wording


# --- groups, sizes, interventions ------------------------------------------------------------

_GROUP_SIZE = re.compile(r"(?P<label>.*?\S)\s*[:：]\s*(?P<size>\d[\d,]*)\s*(?:cases|participants|subjects)?\s*")
_PLAIN_NUMBER = re.compile(r"\d[\d,]*")


def _target_size(text: str) -> tuple[list[tuple[str, int]], int | None, bool]:
    """Per-group sizes ("Case series:100;", "Treatment group:50;Control group:50;"), the total, and
    whether the whole text was read; a plain number is a total with no groups.
    """
    parts = [part.strip() for part in re.split(r"[;；]", text) if part.strip()]
    if len(parts) == 1 and _PLAIN_NUMBER.fullmatch(parts[0]):
        return [], int(parts[0].replace(",", "")), True
    groups: list[tuple[str, int]] = []
    pending: list[str] = []  # a label with a ";" of its own: "Patients VS controls; Severe VS mild:600"
    for part in parts:
        match = _GROUP_SIZE.fullmatch(part)
        if match:
            groups.append(("; ".join([*pending, n.clean(match["label"])]), int(match["size"].replace(",", ""))))
            pending = []
        else:
            pending.append(part)
    total = sum(size for _, size in groups) if groups else None
    return groups, total, not pending


_TYPED = re.compile(
    r"(?P<type>Drug|Device|Biological|Procedure|Radiation|Behavioral|Behavioural|Genetic|Dietary Supplement|"
    r"Combination Product|Diagnostic Test|Other)\s*:\s*(?P<name>.+)",
    re.I | re.S,
)
_NUMBERED = re.compile(r"(?:(?<=\s)|^)(Control\s+)?Intervention\s*\d+\s*:\s*", re.I)
_EU_PRODUCT = re.compile(r"^(Trade Name|Product Name|Product Code|INN or Proposed INN)\s*:\s*(.*)$", re.M)


# ChiCTR's diagnostic-test records name the tests where other records name groups.
_CHICTR_TESTS = {"gold standard", "index test"}


def _arms_and_interventions(
    text: str, groups: list[tuple[str, int]], registry: str
) -> tuple[tuple[ArmRecord, ...], tuple[InterventionRecord, ...]]:
    """Arms (from the target size's groups, or ChiCTR's "group:intervention;" list) and the interventions."""
    arms = {label.casefold(): ArmRecord(label=label, planned_size=size) for label, size in groups}
    interventions: list[InterventionRecord] = []
    by_group = _chictr_groups(text, [label for label, _ in groups]) if registry in _CHICTR_REGISTRIES else []
    for label, treatment in by_group:
        name = _meaningful(treatment)
        if label.casefold() in _CHICTR_TESTS:
            if name:
                interventions.append(
                    InterventionRecord(name=name, type=InterventionType.DIAGNOSTIC_TEST, type_text=label)
                )
            continue
        arm = arms.setdefault(label.casefold(), ArmRecord(label=label))
        if name:
            interventions.append(InterventionRecord(name=name, arm_labels=(arm.label,)))
    if not by_group:
        interventions = _free_interventions(text)
        for item in interventions:
            for label in item.arm_labels:
                arms.setdefault(label.casefold(), ArmRecord(label=label, description=item.name))
    return _bilingual_arms(arms.values()), tuple(interventions)


def _chictr_groups(text: str, known_labels: list[str]) -> list[tuple[str, str]]:
    """ChiCTR's "group:intervention;" pairs.

    A part that starts with a group named in the target size ("For mild cases: Ward group:") opens that
    group; other parts, even with a colon of their own ("Day 2~5: 200mg"), continue the intervention
    before. With no group named in the target size, any "label:" opens one.
    """
    parts = re.split(r"[;；]", text)
    known = sorted(known_labels, key=len, reverse=True)
    anchored = any(_group_label(part, known) for part in parts)
    pairs: list[list[str]] = []
    for part in map(n.clean, parts):
        label = _group_label(part, known) if anchored else part.partition(":")[0].strip() if ":" in part else ""
        if label:
            pairs.append([label, part[len(label) :].lstrip(" :")])
        elif pairs and part:
            pairs[-1][1] += f"; {part}"
    return [(label, treatment) for label, treatment in pairs]


def _group_label(part: str, labels: list[str]) -> str:
    """The label among ``labels`` that starts ``part`` and is followed by a colon, as ``part`` spells it."""
    for label in labels:
        if part.casefold().startswith(label.casefold()) and part[len(label) :].lstrip().startswith(":"):
            return part[: len(label)]
    return ""


def _bilingual_arms(arms: Iterable[ArmRecord]) -> tuple[ArmRecord, ...]:
    result = []
    for arm in arms:
        english, original = _languages(arm.label)
        result.append(dataclasses.replace(arm, label=english or original, label_original=original))
    return tuple(result)


def _free_interventions(text: str) -> list[InterventionRecord]:
    """Interventions written as "Drug: x;Drug: y", "Intervention 1: ...", EU CTR product blocks, or lines."""
    if _EU_PRODUCT.search(text):
        return _eu_products(text)
    if _NUMBERED.search(text):
        return [
            _named_intervention(n.clean(item), "Control intervention" if control else "")
            for control, item in _pairs(_NUMBERED.split(text))
            if _meaningful(item)
        ]
    parts = [part for part in re.split(r";(?!\s)", text) if _meaningful(part)]
    typed = [_TYPED.fullmatch(n.clean(part)) for part in parts]
    if parts and all(typed):
        return [
            InterventionRecord(
                name=n.clean(match["name"]), type=_intervention_type(match["type"]), type_text=n.clean(match["type"])
            )
            for match in typed
        ]
    return [_bilingual_intervention(item) for item in n.split_criteria(text) if _meaningful(item)]


def _pairs(parts: list[str]) -> list[tuple[str | None, str]]:
    """The (marker group, text) pairs of ``re.split`` with one group, text before the first marker kept."""
    head = [(None, parts[0])] if parts[0].strip() else []
    return head + list(zip(parts[1::2], parts[2::2], strict=True))


def _named_intervention(item: str, type_text: str) -> InterventionRecord:
    """ "ZYH1: 2mg once daily" names ZYH1 and describes it; "Control group: ..." names the arm it is given to."""
    name, colon, description = (part.strip() for part in item.partition(":"))
    if not (colon and len(name) <= 60 and description):
        return InterventionRecord(name=item, type_text=type_text)
    if re.search(r"\b(?:group|arm)\b", name, re.I):
        return InterventionRecord(name=description, type_text=type_text, arm_labels=(name,))
    return InterventionRecord(name=name, description=description, type_text=type_text)


def _bilingual_intervention(text: str) -> InterventionRecord:
    english, original = _languages(text)
    return InterventionRecord(name=english or original, name_original=original)


def _intervention_type(text: str) -> str:
    key = text.upper().replace(" ", "_").replace("BEHAVIOURAL", "BEHAVIORAL")
    return key if key in InterventionType.values else InterventionType.OTHER


def _eu_products(text: str) -> list[InterventionRecord]:
    """One intervention per EU CTR product block (a blank line between blocks), named by its first name."""
    products: dict[str, InterventionRecord] = {}
    for product_block in re.split(r"\n\s*\n", text):
        values: dict[str, str] = {}
        for label, value in _EU_PRODUCT.findall(product_block):
            values.setdefault(label.lower(), n.clean(value))
        name = next(
            (
                values[key]
                for key in ("trade name", "product name", "inn or proposed inn", "product code")
                if values.get(key)
            ),
            "",
        )
        if name and name.casefold() not in products:
            products[name.casefold()] = InterventionRecord(
                name=name,
                type=InterventionType.DRUG,
                description=product_block.strip(),
                code=values.get("product code", ""),
            )
    return list(products.values())


# --- outcomes --------------------------------------------------------------------------------

_EU_OUTCOME_PART = re.compile(
    r"(?:^|;)\s*(Main Objective|Secondary Objective|Primary end point\(s\)|Secondary end point\(s\)|"
    r"Timepoint\(s\) of evaluation of this end point)\s*:",
    re.I,
)
# CTRI glues the label to the measure: "TriglyceridesTimepoint: 12 weeks".
_TIMEPOINT = re.compile(r"\s*(?:\.\s*)?(?:Timepoint|Time\s*point|Time\s*frame)\s*:\s*", re.I)
_METHOD = re.compile(r"\.?\s*\bMethod of measurement\s*:\s*", re.I)
_BRACKETED_TIME = re.compile(r"^(?P<measure>.*?)\s*\[(?P<time>[^\[\]]+)\]\s*$", re.S)


def _outcomes(kind: str, text: str) -> tuple[str, tuple[OutcomeRecord, ...]]:
    """Objectives (EU CTR puts them among the outcomes) and one outcome per item of an outcome text."""
    if _EU_OUTCOME_PART.search(text):
        return _eu_outcomes(kind, text)
    outcomes = []
    # ICTRP joins a registry's outcomes with ";" and no space; "; " inside a sentence is the registry's own.
    for item in re.split(r"[;；](?!\s)", text):
        outcomes += _outcome_items(kind, item.strip())
    return "", tuple(outcomes)


def _outcome_items(kind: str, item: str, time_frame: str = "") -> list[OutcomeRecord]:
    if not _meaningful(item):
        return []
    bracketed = _BRACKETED_TIME.fullmatch(item)
    if bracketed:
        time_text = re.sub(r"^\s*(?:Time\s*frame|Timeframe)\s*:?\s*", "", bracketed["time"], flags=re.I)
        return [_outcome(kind, bracketed["measure"], time_text)]
    timed = _TIMEPOINT.split(item, maxsplit=1)
    if len(timed) == 2:
        time_text, _, method = _split_once(_METHOD, timed[1])
        return [_outcome(kind, timed[0], time_text, method)]
    return [_outcome(kind, measure, time_frame) for measure in n.split_criteria(item)]


def _split_once(pattern: re.Pattern, text: str) -> tuple[str, str, str]:
    match = pattern.search(text)
    return (text[: match.start()], match.group(), text[match.end() :]) if match else (text, "", "")


def _outcome(kind: str, measure: str, time_frame: str, description: str = "") -> OutcomeRecord:
    measure, measure_original = _languages(measure.strip().rstrip(".;").strip())
    time_frame, time_frame_original = _languages(time_frame.strip().rstrip(".;").strip())
    return OutcomeRecord(
        kind=kind,
        measure=n.clean(measure) or n.clean(measure_original),
        measure_original=n.clean(measure_original),
        time_frame=n.clean(time_frame),
        time_frame_original=n.clean(time_frame_original),
        description=n.clean_block(description.strip().rstrip(".")),
    )


def _eu_outcomes(kind: str, text: str) -> tuple[str, tuple[OutcomeRecord, ...]]:
    parts = {
        label.lower(): n.clean_block(value)
        for label, value in _pairs(_EU_OUTCOME_PART.split(text))
        if label is not None and value.strip()
    }
    objectives = [
        f"{title}: {parts[key]}"
        for key, title in (("main objective", "Main objective"), ("secondary objective", "Secondary objective"))
        if parts.get(key)
    ]
    end_points = parts.get("primary end point(s)") or parts.get("secondary end point(s)") or ""
    time_frame = n.clean(parts.get("timepoint(s) of evaluation of this end point", ""))
    outcomes = _outcome_items(kind, end_points, time_frame) if end_points else []
    return "\n\n".join(objectives), tuple(outcomes)


# --- population ------------------------------------------------------------------------------

_EU_AGE_BLOCK = re.compile(r"^\s*Are the trial subjects under 18\?.*", re.S | re.M | re.I)
_CRITERIA_HEADING = re.compile(r"^\s*(?:inclusion|exclusion|key inclusion|key exclusion)\s+criteria\s*:\s*", re.I)


def _criteria_texts(inclusion: str, exclusion: str) -> tuple[str, str, str]:
    """Inclusion and exclusion texts without their headings, and EU CTR's age-group answers."""
    age_groups = ""
    block = _EU_AGE_BLOCK.search(inclusion)
    if block:
        inclusion, age_groups = inclusion[: block.start()], block.group().strip()
    inclusion = _CRITERIA_HEADING.sub("", inclusion.strip())
    exclusion = _CRITERIA_HEADING.sub("", exclusion.strip())
    if not _meaningful(exclusion) and re.search(r"exclusion criteria", inclusion, re.I):
        # ClinicalTrials.gov's records put both lists in the inclusion field.
        inclusion, exclusion = n.split_eligibility(inclusion)
    return inclusion.strip(), (exclusion.strip() if _meaningful(exclusion) else ""), age_groups


def _eligibility_texts(inclusion: str, exclusion: str) -> dict[str, str]:
    (inclusion, inclusion_original), (exclusion, exclusion_original) = map(_languages, (inclusion, exclusion))
    return {
        "eligibility_text": n.eligibility_text(inclusion, exclusion),
        "eligibility_text_original": n.eligibility_text(inclusion_original, exclusion_original),
    }


def _criteria(kind: str, text: str) -> tuple[CriterionRecord, ...]:
    english, original = (n.split_criteria(part) for part in _languages(text))
    # Paired by position: a registry asks for the same list in both languages.
    return tuple(
        CriterionRecord(kind=kind, text=pair[0] or "", text_original=pair[1] or "")
        for pair in zip_longest(english, original)
    )


def _age_limits(minimum: str, maximum: str, age_groups: str) -> tuple[float | None, float | None]:
    """Age limits in years; "0" as a maximum means none; EU CTR's age-group answers where no limit is given."""
    low, high = n.parse_age(minimum), n.parse_age(maximum)
    if high == 0:
        high = None
    if low is None and high is None and age_groups:
        low, high = _eu_age_limits(age_groups)
    return low, high


def _eu_age_limits(age_groups: str) -> tuple[float | None, float | None]:
    """Limits implied by EU CTR's yes/no answers for children, adults (18-64) and the elderly (65+)."""
    answers = {
        group.lower(): answer.lower()
        for group, answer in re.findall(
            r"\b(under 18|Adults|Elderly)\b[^\n]*?\b(yes|no)[ \t]*$", age_groups, re.I | re.M
        )
    }
    children, adults, elderly = (answers.get(group) for group in ("under 18", "adults", "elderly"))
    # Only "no children" is read as a lower limit: sponsors answer "Adults (18-64): no" for adult trials too.
    youngest = 18.0 if children == "no" else None
    oldest = None
    if elderly == "no":
        oldest = 64.0 if adults == "yes" else 17.0 if children == "yes" else None
    return youngest, oldest


def _sex(text: str) -> str:
    """Sex from "Both", "All", or EU CTR's "Female: yes Male: no"."""
    answers = dict(re.findall(r"\b(female|male)\s*:\s*(yes|no)", text, re.I))
    answers = {key.lower(): value.lower() for key, value in answers.items()}
    if answers:
        female, male = answers.get("female") == "yes", answers.get("male") == "yes"
        return Sex.ALL if female and male else Sex.FEMALE if female else Sex.MALE if male else ""
    return n.sex_from(text)


def _timing(retrospective: str, prospective: str) -> str:
    answer = n.yes_no(prospective)
    if answer is None and n.yes_no(retrospective) is not None:
        answer = not n.yes_no(retrospective)
    return {True: RegistrationTiming.PROSPECTIVE, False: RegistrationTiming.RETROSPECTIVE}.get(answer, "")


def _ipd_sharing(text: str) -> str:
    answer = n.yes_no(text)
    if answer is None:
        return "UNDECIDED" if _meaningful(text) else ""
    return "YES" if answer else "NO"


# --- conditions, places, people --------------------------------------------------------------

_MEDDRA = re.compile(r"MedDRA version:.*?(?=;|$)", re.S | re.I)
_THERAPEUTIC_AREA = re.compile(
    r"Therapeutic area:\s*[^;]*?\[[A-Z]\]\s*-\s*(?P<name>[^;\[]+?)\s*\[(?P<code>[A-Z]\d+)\]", re.I
)
_ICD = re.compile(r"(?P<code>[A-Z]\d{2}(?:\.\d{1,2})?)\s+-\s+(?P<name>.+)")


def _conditions(text: str) -> tuple[ConditionRecord, ...]:
    """The registry's conditions, with the MedDRA terms, MeSH areas and ICD-10 codes some registries add."""
    coded: list[ConditionRecord] = []
    for block in _MEDDRA.findall(text):
        term = re.search(r"Term:\s*(.+)", block)
        code = re.search(r"Classification code\s*:?\s*(\d+)", block)
        if term:
            coded.append(
                ConditionRecord(name=n.clean(term.group(1)), code=code.group(1) if code else "", vocabulary="MedDRA")
            )
    for match in _THERAPEUTIC_AREA.finditer(text):
        coded.append(ConditionRecord(name=n.clean(match["name"]), code=match["code"], vocabulary="MeSH"))
    rest = _THERAPEUTIC_AREA.sub("", _MEDDRA.sub("", text))
    rest = re.sub(r"Classification code\s*:?\s*\d+", "", rest)
    names = []
    for part in re.split(r"[;；\n]", rest):
        name = _meaningful(part)
        icd = _ICD.fullmatch(name)
        if icd:
            coded.append(ConditionRecord(name=n.clean(icd["name"]), code=icd["code"], vocabulary="ICD-10"))
        elif name:
            names.append(name)
    own = []
    for name in _unique(names):
        english, original = _languages(name)
        own.append(ConditionRecord(name=english or original, name_original=original))
    return tuple(own + coded)


def _keywords(keywords: Iterable[str]) -> tuple[KeywordRecord, ...]:
    found = []
    for keyword in _unique(_list(";".join(keywords))):
        english, original = _languages(keyword)
        found.append(KeywordRecord(name=english or original, name_original=original))
    return tuple(found)


def _countries(text: str) -> list[str]:
    # JPRN lists regions with bare commas ("Japan,Asia(except Japan)"); a comma and a space is part of
    # one name ("Korea, Republic of").
    return _unique(_list(re.sub(r",(?=\S)", ";", text)))


def _sponsors(primary: str, secondary: str) -> tuple[SponsorRecord, ...]:
    sponsors = [(primary, SponsorRole.LEAD)] if _meaningful(primary) else []
    sponsors += [(name, SponsorRole.COLLABORATOR) for name in _unique(_list(secondary))]
    result = []
    for name, role in sponsors:
        english, original = _languages(name)
        result.append(SponsorRecord(name=english or original, name_original=original, role=role))
    return tuple(result)


_CONTACT_PARTS = ("firstname", "lastname", "address", "email", "tel", "affiliation")


def _flat_contacts(fields: Mapping[str, str]) -> tuple[ContactRecord, ...]:
    """Contacts from ICTRP's parallel ";"-separated name, email, phone, address and affiliation lists."""
    columns = {part: n.html_line(fields.get(f"contact_{part}")).split(";") for part in _CONTACT_PARTS}
    count = max(len(columns[part]) for part in ("firstname", "lastname", "email", "tel"))
    for part, values in columns.items():
        if len(values) > count:
            # More values than people: one value with a ";" of its own ("Clinic; University").
            columns[part] = [";".join(values)]
    rows = [
        {part: values[index] if index < len(values) else "" for part, values in columns.items()}
        for index in range(count)
    ]
    return _contacts(rows, role="contact")


def _contacts(rows: Iterable[Mapping[str, str]], *, role: str) -> tuple[ContactRecord, ...]:
    """One contact per person named in rows of firstname/lastname/address/email/tel/affiliation."""
    contacts: dict[str, ContactRecord] = {}
    for row in rows:
        name = n.clean(f"{row.get('firstname', '')} {row.get('middlename', '')} {row.get('lastname', '')}")
        values = {part: _meaningful(row.get(part, "")) for part in ("email", "affiliation")}
        values["tel"] = _meaningful(row.get("tel") or row.get("telephone", ""))
        # The data-provider XML splits the address; ICTRP's exports give it in one.
        values["address"] = ", ".join(
            part for part in (_meaningful(row.get(key, "")) for key in ("address", "city", "zip", "country1")) if part
        )
        if not (name or values["email"] or values["tel"]):
            continue
        key = (name or values["email"] or values["tel"]).casefold()
        name_en, name_original = _languages(name)
        affiliation, affiliation_original = _languages(values["affiliation"])
        address, address_original = _languages(values["address"])
        found = ContactRecord(
            role=row.get("role") or role,
            name=name_en,
            name_original=name_original,
            affiliation=affiliation,
            affiliation_original=affiliation_original,
            phone=values["tel"],
            email=values["email"],
            address=address,
            address_original=address_original,
        )
        known = contacts.get(key)
        contacts[key] = _merged(known, found) if known else found
    return tuple(contacts.values())


def _merged(first: ContactRecord, second: ContactRecord) -> ContactRecord:
    """The same person listed twice: each field from the first listing that gives it."""
    values = {name: getattr(first, name) or getattr(second, name) for name in first.__dataclass_fields__}
    return ContactRecord(**values)


def _identifiers(values: Iterable[tuple[str, str]], trial_id: str) -> tuple[IdentifierRecord, ...]:
    """Secondary ids as (value, issuer): another registry's trial id, or the sponsor's or a funder's number."""
    identifiers: dict[str, IdentifierRecord] = {}
    for value, issuer in values:
        value, issuer = _meaningful(value), _meaningful(issuer)
        if not value:
            continue
        registry_ids = [(registry, found) for registry, found in trial_ids_in(value) if found != trial_id]
        if registry_ids:
            for registry, found in registry_ids:
                identifiers.setdefault(found, IdentifierRecord(value=found, type="registry", issuer=registry))
        elif value != trial_id:
            identifiers.setdefault(value, IdentifierRecord(value=value, type="secondary", issuer=issuer))
    return tuple(identifiers.values())


def _ethics(fields: Mapping[str, str]) -> dict:
    """Approval, date, committee and contact from the Ethics_review_* fields of later exports."""

    def line(key: str) -> str:
        return n.html_line(fields.get(key))

    status = line("ethics_review_status").lower()
    approved = None
    if re.search(r"\bnot approved|rejected|declined|disapproved", status):
        approved = False
    elif "approved" in status:
        approved = True
    contact = [_meaningful(line(f"ethics_review_contact_{part}")) for part in ("name", "address", "phone", "email")]
    dates = [n.parse_date(part) for part in _list(line("ethics_review_approval_date"))]
    committee, committee_original = _languages(line("ethics_review_committee"))
    return {
        "ethics_approved": approved,
        "ethics_approval_date": next((date for date in dates if date), None),
        "ethics_committee": committee,
        "ethics_committee_original": committee_original,
        "ethics_contact": ", ".join(part for part in contact if part),
    }
