"""ChiCTR (and ITMCTR) record pages saved as text: bilingual label/value lines.

A Chinese label, its English twin and their values come in either order; labels may wrap over two
lines; some blocks (groups, sites, outcomes, samples, secondary sponsors) repeat.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from trials.choices import CriterionKind, OutcomeKind, Registry, SponsorRole

from .. import normalize as n
from ..records import (
    ArmRecord,
    BiospecimenRecord,
    ConditionRecord,
    ContactRecord,
    CriterionRecord,
    IdentifierRecord,
    InterventionRecord,
    OutcomeRecord,
    ParseError,
    SiteRecord,
    SponsorRecord,
    TrialRecord,
)
from ..registries import trial_ids_in, trial_url

FORMAT = "chictr-page"
PARSER_VERSION = "chictr-page/2"  # 2: partner registry ids as registry codes

# (key, Chinese label, English label); a label ending in "…" matches by prefix.
LABELS = [
    ("registry_id", "注册号", "Registration number"),
    ("last_update", "最近更新日期", "Date of Last Refreshed on"),
    ("registered", "注册时间", "Date of Registration"),
    ("registration_status", "注册号状态", "Registration Status"),
    ("public_title", "注册题目", "Public title"),
    ("acronym", "注册题目简写", "English Acronym"),
    ("scientific_title", "研究课题的正式科学名称", "Scientific title"),
    ("study_subject_id", "研究课题代号(代码)", "Study subject ID"),
    (
        "partner_id",
        "在二级注册机构或其它机构的注册号",
        "The registration number of the Partner Registry or other register",
    ),
    ("applicant", "申请注册联系人", "Applicant"),
    ("leader", "研究负责人", "Study leader"),
    ("applicant_phone", "申请注册联系人电话", "Applicant telephone"),
    ("leader_phone", "研究负责人电话", "Study leader's telephone"),
    ("applicant_fax", "申请注册联系人传真", "Applicant Fax"),
    ("leader_fax", "研究负责人传真", "Study leader's fax"),
    ("applicant_email", "申请注册联系人电子邮件", "Applicant E-mail"),
    ("leader_email", "研究负责人电子邮件", "Study leader's E-mail"),
    ("applicant_website", "申请单位网址(自愿提供)", "Applicant website(voluntary supply)"),
    ("leader_website", "研究负责人网址(自愿提供)", "Study leader's website(voluntary supply)"),
    ("applicant_address", "申请注册联系人通讯地址", "Applicant address"),
    ("leader_address", "研究负责人通讯地址", "Study leader's address"),
    ("applicant_postcode", "申请注册联系人邮政编码", "Applicant postcode"),
    ("leader_postcode", "研究负责人邮政编码", "Study leader's postcode"),
    ("applicant_institution", "申请人所在单位", "Applicant's institution"),
    ("leader_institution", "研究负责人所在单位", "Affiliation of the Leader"),
    ("ethics_approved", "是否获伦理委员会批准", "Approved by ethic committee"),
    ("ethics_number", "伦理委员会批件文号", "Approved No. of ethic committee"),
    ("ethics_file", "伦理委员会批件附件", "Approved file of Ethical Committee"),
    ("ethics_committee", "批准本研究的伦理委员会名称", "Name of the ethic committee"),
    ("ethics_date", "伦理委员会批准日期", "Date of approved by ethic committee"),
    ("ethics_contact_name", "伦理委员会联系人", "Contact Name of the ethic committee"),
    ("ethics_contact_address", "伦理委员会联系地址", "Contact Address of the ethic committee"),
    ("ethics_contact_phone", "伦理委员会联系人电话", "Contact phone of the ethic committee"),
    ("ethics_contact_email", "伦理委员会联系人邮箱", "Contact email of the ethic committee"),
    ("primary_sponsor", "研究实施负责(组长)单位", "Primary sponsor"),
    ("primary_sponsor_address", "研究实施负责(组长)单位地址", "Primary sponsor's address"),
    ("secondary_sponsors", "试验主办单位(项目批准或申办者)", "Secondary sponsor"),
    ("country", "国家", "Country"),
    ("province", "省(直辖市)", "Province"),
    ("city", "市(区县)", "City"),
    ("institution", "单位(医院)", "Institution hospital"),
    ("address", "具体地址", "Address"),
    ("funding", "经费或物资来源", "Source(s) of funding"),
    ("disease", "研究疾病", "Target disease"),
    ("disease_code", "研究疾病代码", "Target disease code"),
    ("study_type", "研究类型", "Study type"),
    ("phase", "研究所处阶段", "Study phase"),
    ("design", "研究设计", "Study design"),
    ("objectives", "研究目的", "Objectives of Study"),
    (
        "treatment_detail",
        "药物成份或治疗方案详述",
        "Description for medicine or protocol of treatment in detail",
    ),
    ("inclusion", "纳入标准", "Inclusion criteria"),
    ("exclusion", "排除标准", "Exclusion criteria"),
    ("study_time", "研究实施时间", "Study execute time"),
    ("recruiting_time", "征募观察对象时间", "Recruiting time"),
    ("interventions", "", "Interventions"),
    ("group", "组别", "Group"),
    ("sample_size", "样本量", "Sample size"),
    ("intervention", "干预措施", "Intervention"),
    ("intervention_code", "干预措施代码", "Intervention code"),
    ("sites", "研究实施地点", "Countries of recruitment and research settings"),
    ("level", "单位级别", "Level of the institution"),
    ("outcomes", "测量指标", "Outcomes"),
    ("outcome", "指标中文名", "Outcome"),
    ("outcome_type", "指标类型", "Type"),
    ("outcome_time", "测量时间点", "Measure time point of outcome"),
    ("outcome_method", "测量方法", "Measure method"),
    ("samples", "采集人体标本", "Collecting sample(s) from participants"),
    ("sample", "标本中文名", "Sample Name"),
    ("tissue", "组织", "Tissue"),
    ("sample_fate", "人体标本去向", "Fate of sample"),
    ("sample_note", "说明", "Note"),
    ("recruiting_status", "征募研究对象情况", "Recruiting status"),
    ("age", "年龄范围", "Participant age"),
    ("sex", "性别", "Gender"),
    ("randomization", "随机方法…", "Randomization Procedure…"),
    ("results_public", "是否公开试验完成后的统计结果", "Calculated Results after the Study Completed public access"),
    ("blinding", "盲法", "Blinding"),
    ("ipd_sharing", "是否共享原始数据", "IPD sharing"),
    ("ipd_way", "共享原始数据的方式…", "The way of sharing IPD…"),
    ("data_management", "数据采集和管理…", "Data collection and Management…"),
    ("dmc", "数据与安全监察委员会", "Data and Safety Monitoring Committee"),
    ("registrant", "注册人", "Name of Registration"),
]

# Sections whose fields repeat, the label that starts each block, and the label that ends them.
SECTIONS = {
    "secondary_sponsors": ("country", "funding"),
    "interventions": ("group", "sites"),
    "sites": ("country", "outcomes"),
    "outcomes": ("outcome", "samples"),
    "samples": ("sample", "recruiting_status"),
}


def _norm(line: str) -> str:
    text = " ".join(unicodedata.normalize("NFKC", line).split())
    return text.rstrip(":").strip().rstrip('”"').strip()


_EXACT: dict[str, tuple[str, str]] = {}
_PREFIX: list[tuple[str, str, str]] = []
for _key, *_labels in LABELS:
    for _lang, _label in zip(("zh", "en"), _labels, strict=True):
        if not _label:
            continue
        if _label.endswith("…"):
            _PREFIX.append((_norm(_label[:-1]).lower(), _key, _lang))
        else:
            _EXACT[_norm(_label).lower()] = (_key, _lang)


def looks_like(text: str) -> bool:
    return bool(re.search(r"注册号\s*[:：]", text) and re.search(r"Registration number\s*:", text))


@dataclass
class Field:
    """The values found for one label key: lines after the Chinese label and after the English one."""

    zh: list[str] = field(default_factory=list)
    en: list[str] = field(default_factory=list)

    def add(self, lang: str, line: str) -> None:
        (self.zh if lang == "zh" else self.en).append(line)

    @property
    def english(self) -> str:
        lines = [line for line in self.en if not (n.has_cjk(line) and not self.zh)]
        return "\n".join(lines).strip()

    @property
    def original(self) -> str:
        lines = self.zh or [line for line in self.en if n.has_cjk(line)]
        return "\n".join(lines).strip()

    @property
    def any(self) -> str:
        return self.english or self.original


Block = dict[str, Field]


def _label_at(lines: list[str], index: int) -> tuple[str, str, int] | None:
    """The label starting at line ``index`` as (key, language, lines used), or None for a value."""
    for span in (2, 1):
        if index + span > len(lines):
            continue
        text = _norm(" ".join(lines[index : index + span])).lower()
        if text in _EXACT:
            return (*_EXACT[text], span)
        for prefix, key, lang in _PREFIX:
            if text.startswith(prefix) and span == 1:
                return key, lang, span
    return None


def _read_blocks(text: str) -> tuple[Block, dict[str, list[Block]]]:
    """Group value lines under their labels: the page's single fields, and each repeating section."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    single: Block = {}
    sections: dict[str, list[Block]] = {}
    section: str | None = None
    current: Field | None = None
    lang = "zh"
    index = 0
    while index < len(lines):
        found = _label_at(lines, index)
        if found is None:
            if current is not None:
                current.add(lang, lines[index])
            index += 1
            continue
        key, lang, span = found
        index += span
        if key == "intervention" and lang == "zh" and section != "interventions":
            key = "interventions"  # 干预措施 is the section heading before the groups start
        if key in SECTIONS:
            section = key
            sections.setdefault(section, [])
            current = Field()  # a section heading holds no value
            continue
        if section and key == SECTIONS[section][1]:
            section = None
        if section:
            blocks = sections[section]
            # A Chinese label already seen in the current block opens the next block.
            if not blocks or (lang == "zh" and key in blocks[-1]):
                blocks.append({})
            current = blocks[-1].setdefault(key, Field())
        else:
            current = single.setdefault(key, Field())
    return single, sections


def parse(payload: bytes) -> Iterator[TrialRecord]:
    """Yield the one trial of a ChiCTR or ITMCTR record page saved as text."""
    text = n.decode_text(payload)
    single, sections = _read_blocks(text)
    registry_id = _registry_id(single, text)
    if "registrant" not in single and "dmc" not in single:
        raise ParseError(
            "the page ends before its last section ('Data and Safety Monitoring Committee' / "
            "'Name of Registration'); the file looks truncated"
        )

    def get(key: str) -> Field:
        return single.get(key) or Field()

    status_field = get("recruiting_status")
    study_type = get("study_type")
    design = get("design")
    sex = get("sex")
    age = get("age").any
    min_age, max_age = _ages(age)
    study_time = _date_range(get("study_time").any)
    recruiting_time = _date_range(get("recruiting_time").any)
    blinding = get("blinding").any
    arms, interventions = _arms(sections.get("interventions", []))
    registration = get("registration_status").any.lower()

    yield TrialRecord(
        registry=Registry.ITMCTR if registry_id.upper().startswith("ITMCTR") else Registry.CHICTR,
        registry_id=registry_id,
        source=payload,
        source_format=FORMAT,
        parser_version=PARSER_VERSION,
        source_url=trial_url(registry_id),
        original_language="zh",
        public_title=n.clean(get("public_title").english),
        public_title_original=n.clean(get("public_title").original),
        scientific_title=n.clean(get("scientific_title").english),
        scientific_title_original=n.clean(get("scientific_title").original),
        acronym=n.clean(get("acronym").english),
        acronym_original=n.clean(get("acronym").original),
        status=n.status_from(status_field.english) or n.status_from(status_field.original),
        status_text=_both(status_field),
        study_type=n.study_type_from(study_type.english or study_type.original),
        study_type_text=_both(study_type),
        phases=n.phases_from(get("phase").english) or n.phases_from(get("phase").original),
        phase_text=_both(get("phase")),
        allocation=n.allocation_in_design(design.any),
        intervention_model=n.intervention_model_from(design.english) or n.intervention_model_from(design.original),
        observational_model=n.observational_model_from(design.english),
        masking=n.masking_from(blinding),
        blinding_text=n.clean(blinding),
        design_text=n.clean(design.english),
        design_text_original=n.clean(design.original),
        randomization_text=n.clean_block(get("randomization").any),
        enrollment_target=sum(arm.planned_size or 0 for arm in arms) or None,
        registration_date=n.parse_date(get("registered").any),
        last_update_date=n.parse_date(get("last_update").any),
        start_date=study_time[0],
        completion_date=study_time[1],
        recruitment_start_date=recruiting_time[0],
        recruitment_end_date=recruiting_time[1],
        registration_timing="prospective"
        if "prospective" in registration or "预注册" in registration
        else "retrospective"
        if "retrospective" in registration or "补注册" in registration
        else "",
        objectives=n.clean_block(get("objectives").english),
        objectives_original=n.clean_block(get("objectives").original),
        description=n.clean_block(get("treatment_detail").english),
        description_original=n.clean_block(get("treatment_detail").original),
        ethics_approved=n.yes_no(get("ethics_approved").any),
        ethics_committee=n.clean(get("ethics_committee").english),
        ethics_committee_original=n.clean(get("ethics_committee").original),
        ethics_approval_number=n.clean(get("ethics_number").any),
        ethics_approval_date=n.parse_date(get("ethics_date").any),
        ethics_contact=_ethics_contact(single),
        has_dmc=n.yes_no(get("dmc").any),
        ipd_sharing=_ipd(get("ipd_sharing").any),
        ipd_sharing_text=n.clean(get("ipd_sharing").any),
        ipd_sharing_description=n.clean_block(get("ipd_way").english),
        ipd_sharing_description_original=n.clean_block(get("ipd_way").original),
        data_management=n.clean_block(get("data_management").english),
        data_management_original=n.clean_block(get("data_management").original),
        results_public_text=n.clean(get("results_public").any),
        funding=n.clean(get("funding").english),
        funding_original=n.clean(get("funding").original),
        min_age_years=min_age,
        max_age_years=max_age,
        min_age_text=_age_text(age, "min"),
        max_age_text=_age_text(age, "max"),
        sex=n.sex_from(sex.english) or n.sex_from(sex.original),
        sex_text=_both(sex),
        eligibility_text=n.eligibility_text(get("inclusion").english, get("exclusion").english),
        eligibility_text_original=n.eligibility_text(get("inclusion").original, get("exclusion").original),
        conditions=_conditions(get("disease"), get("disease_code")),
        arms=arms,
        interventions=interventions,
        outcomes=_outcomes(sections.get("outcomes", [])),
        criteria=_criteria(CriterionKind.INCLUSION, get("inclusion"))
        + _criteria(CriterionKind.EXCLUSION, get("exclusion")),
        sites=_sites(sections.get("sites", [])),
        sponsors=_sponsors(single, sections.get("secondary_sponsors", []), get("funding")),
        contacts=_contacts(single),
        identifiers=_identifiers(single, registry_id),
        biospecimens=_biospecimens(sections.get("samples", [])),
    )


def _registry_id(single: Block, text: str) -> str:
    value = (single.get("registry_id") or Field()).any
    match = re.search(r"\b(ChiCTR[-\w]*\d|ITMCTR\d+)\b", value) or re.search(
        r"\b(ChiCTR[-\w]*\d|ITMCTR\d+)\b", text[:2000]
    )
    if not match:
        raise ParseError("no registration number (注册号 / Registration number) found")
    return match.group(1)


def _both(value: Field) -> str:
    parts = [n.clean(value.original), n.clean(value.english)]
    return " / ".join(part for part in parts if part)


def _ages(text: str) -> tuple[float | None, float | None]:
    minimum = re.search(r"(?:最小|min(?:imum)?\s*age)[^\d]*([\d.]+\s*\w*)", text, re.I)
    maximum = re.search(r"(?:最大|max(?:imum)?\s*age)[^\d]*([\d.]+\s*\w*)", text, re.I)
    return (
        n.parse_age(minimum.group(1)) if minimum else None,
        n.parse_age(maximum.group(1)) if maximum else None,
    )


def _age_text(text: str, which: str) -> str:
    for line in text.splitlines():
        if which in line.lower():
            return n.clean(re.sub(r"^(最小|最大)\s*", "", line))
    return ""


def _date_range(text: str) -> tuple:
    match = re.search(r"From\s+(.*?)\s+To\s+(.*)", text, re.I | re.S)
    if match:
        return n.parse_date(match.group(1)), n.parse_date(match.group(2))
    return n.parse_date(text), None


def _ipd(text: str) -> str:
    answer = n.yes_no(text)
    if answer is None:
        return "UNDECIDED" if text.strip() else ""
    return "YES" if answer else "NO"


def _ethics_contact(single: Block) -> str:
    parts = []
    for key in ("ethics_contact_name", "ethics_contact_address", "ethics_contact_phone", "ethics_contact_email"):
        value = single.get(key)
        if value and value.any:
            parts.append(n.clean(value.english or value.original))
    return ", ".join(parts)


def _criteria(kind: str, value: Field) -> tuple[CriterionRecord, ...]:
    english, original = n.split_criteria(value.english), n.split_criteria(value.original)
    count = max(len(english), len(original))
    # Paired by position: the registry asks for the same list in both languages.
    return tuple(
        CriterionRecord(
            kind=kind,
            text=english[index] if index < len(english) else "",
            text_original=original[index] if index < len(original) else "",
        )
        for index in range(count)
    )


def _conditions(disease: Field, code: Field) -> tuple[ConditionRecord, ...]:
    if not disease.any:
        return ()
    return (
        ConditionRecord(
            name=n.clean(disease.english) or n.clean(disease.original),
            name_original=n.clean(disease.original),
            code=n.clean(code.any),
        ),
    )


def _value(block: Block, key: str) -> Field:
    return block.get(key) or Field()


def _meaningful(text: str) -> str:
    text = n.clean(text)
    return "" if text.lower() in {"none", "n/a", "na", "无", "/", "-"} else text


def _arms(blocks: list[Block]) -> tuple[tuple[ArmRecord, ...], tuple[InterventionRecord, ...]]:
    arms, interventions = [], []
    for block in blocks:
        group = _value(block, "group")
        label = n.clean(group.english) or n.clean(group.original)
        if not label:
            continue
        arms.append(
            ArmRecord(
                label=label,
                label_original=n.clean(group.original),
                planned_size=n.parse_int(_value(block, "sample_size").any),
            )
        )
        treatment = _value(block, "intervention")
        name = _meaningful(treatment.english) or _meaningful(treatment.original)
        if name:
            interventions.append(
                InterventionRecord(
                    name=name,
                    name_original=_meaningful(treatment.original),
                    code=_meaningful(_value(block, "intervention_code").any),
                    arm_labels=(label,),
                )
            )
    return tuple(arms), tuple(interventions)


def _outcomes(blocks: list[Block]) -> tuple[OutcomeRecord, ...]:
    outcomes = []
    for block in blocks:
        measure = _value(block, "outcome")
        if not measure.any:
            continue
        kind_text = _value(block, "outcome_type").any.lower()
        kind = (
            OutcomeKind.PRIMARY
            if "primary" in kind_text or "主要" in kind_text
            else OutcomeKind.SECONDARY
            if "secondary" in kind_text or "次要" in kind_text
            else OutcomeKind.OTHER
        )
        time, method = _value(block, "outcome_time"), _value(block, "outcome_method")
        outcomes.append(
            OutcomeRecord(
                kind=kind,
                measure=n.clean(measure.english) or n.clean(measure.original),
                measure_original=n.clean(measure.original),
                time_frame=n.clean(time.english),
                time_frame_original=n.clean(time.original),
                description=n.clean_block(method.english),
                description_original=n.clean_block(method.original),
            )
        )
    return tuple(outcomes)


def _sites(blocks: list[Block]) -> tuple[SiteRecord, ...]:
    sites = []
    for block in blocks:
        institution = _value(block, "institution")
        country = _value(block, "country")
        if not (institution.any or country.any):
            continue
        level = _value(block, "level")
        original = [n.clean(_value(block, key).original) for key in ("country", "province", "city")]
        sites.append(
            SiteRecord(
                facility=n.clean(institution.english) or n.clean(institution.original),
                facility_original=n.clean(institution.original),
                city=n.clean(_value(block, "city").any),
                region=n.clean(_value(block, "province").any),
                country=n.clean(country.english) or n.clean(country.original),
                location_original=" ".join(part for part in original if part),
                level=n.clean(level.english),
                level_original=n.clean(level.original),
            )
        )
    return tuple(sites)


def _sponsors(single: Block, secondary: list[Block], funding: Field) -> tuple[SponsorRecord, ...]:
    sponsors = []
    primary = single.get("primary_sponsor") or Field()
    address = single.get("primary_sponsor_address") or Field()
    if primary.any:
        sponsors.append(
            SponsorRecord(
                name=n.clean(primary.english) or n.clean(primary.original),
                name_original=n.clean(primary.original),
                role=SponsorRole.LEAD,
                address=n.clean(address.english),
                address_original=n.clean(address.original),
            )
        )
    for block in secondary:
        institution = _value(block, "institution")
        if not institution.any:
            continue
        place = _value(block, "address")
        sponsors.append(
            SponsorRecord(
                name=n.clean(institution.english) or n.clean(institution.original),
                name_original=n.clean(institution.original),
                role=SponsorRole.COLLABORATOR,
                address=n.clean(place.english),
                address_original=n.clean(place.original),
            )
        )
    return tuple(sponsors)


def _contacts(single: Block) -> tuple[ContactRecord, ...]:
    contacts = []
    for prefix, role in (("applicant", "applicant"), ("leader", "study leader")):

        def get(suffix: str, prefix: str = prefix) -> Field:
            return single.get(f"{prefix}_{suffix}" if suffix else prefix) or Field()

        name, institution, address = get(""), get("institution"), get("address")
        if not (name.any or get("email").any):
            continue
        contacts.append(
            ContactRecord(
                role=role,
                name=n.clean(name.english) or n.clean(name.original),
                name_original=n.clean(name.original),
                affiliation=n.clean(institution.english),
                affiliation_original=n.clean(institution.original),
                phone=n.clean(get("phone").any),
                email=n.clean(get("email").any),
                address=n.clean(address.english),
                address_original=n.clean(address.original),
            )
        )
    return tuple(contacts)


def _identifiers(single: Block, registry_id: str) -> tuple[IdentifierRecord, ...]:
    identifiers = []
    subject = _meaningful((single.get("study_subject_id") or Field()).any)
    if subject:
        identifiers.append(IdentifierRecord(value=subject, type="org_study_id"))
    partner = _meaningful((single.get("partner_id") or Field()).any)
    named = trial_ids_in(partner)
    # The partner registry's number (NCT..., ChiCTR2100050545 on an ITMCTR page): the link between the two.
    identifiers += [
        IdentifierRecord(value=trial_id, type="registry", issuer=registry)
        for registry, trial_id in named
        if trial_id != registry_id
    ]
    if partner and not named:
        identifiers.append(IdentifierRecord(value=partner, type="secondary"))
    return tuple(identifiers)


def _biospecimens(blocks: list[Block]) -> tuple[BiospecimenRecord, ...]:
    samples = []
    for block in blocks:
        name, fate = _value(block, "sample"), _value(block, "sample_fate")
        if not name.any:
            continue
        samples.append(
            BiospecimenRecord(
                name=n.clean(name.english) or n.clean(name.original),
                name_original=n.clean(name.original),
                tissue=n.clean(_value(block, "tissue").any),
                fate=n.clean(fate.english),
                fate_original=n.clean(fate.original),
                note=n.clean(_value(block, "sample_note").any),
            )
        )
    return tuple(samples)
