"""Seed files parsed field by field (facts read off the registry pages by hand)."""

import datetime
import json
from pathlib import Path

import pytest

from ingest import detect
from ingest.parsers import chictr_page, ctgov_json, ctgov_page, raw_json_page
from ingest.records import ParseError


def parse_one(payload: bytes):
    [record] = detect.parse(payload)
    return record


def kinds(record, kind):
    return [criterion for criterion in record.criteria if criterion.kind == kind]


@pytest.mark.parametrize(
    ("registry_id", "parser"),
    [
        ("ChiCTR2600126638", chictr_page),
        ("ChiCTR2600127123", chictr_page),
        ("NCT07101562", ctgov_page),
        ("NCT06379243", ctgov_page),
        ("NCT06731192", raw_json_page),
    ],
)
def test_each_seed_layout_is_detected_by_content(seed_bytes, registry_id, parser):
    assert detect.detect(seed_bytes(registry_id)) is parser


def test_chictr_osteonecrosis_trial(seed_bytes):
    trial = parse_one(seed_bytes("ChiCTR2600126638"))
    assert (trial.registry, trial.registry_id) == ("chictr", "ChiCTR2600126638")
    assert trial.status == "NOT_YET_RECRUITING"
    assert trial.status_text == "尚未开始 / Not yet recruiting"
    assert trial.study_type == "INTERVENTIONAL"
    assert trial.registration_timing == "prospective"
    assert trial.public_title.startswith("A Clinical Study of Precision Intervention Strategies for Osteonecrosis")
    assert trial.public_title_original.startswith("股骨头坏死精准干预策略")
    assert [(arm.label, arm.label_original, arm.planned_size) for arm in trial.arms] == [
        ("Single arm treatment group", "单臂治疗组", 36)
    ]
    assert trial.enrollment_target == 36
    assert [outcome.kind for outcome in trial.outcomes].count("primary") == 2
    assert [outcome.kind for outcome in trial.outcomes].count("secondary") == 3
    assert trial.outcomes[4].measure == "Harris hip joint function score"
    assert trial.outcomes[4].measure_original == "Harris髋关节功能评分"
    assert kinds(trial, "inclusion") == []
    exclusion = kinds(trial, "exclusion")
    assert len(exclusion) == 7
    assert exclusion[4].text == "Pregnant or lactating women, or those with recent pregnancy plans"
    assert exclusion[4].text_original == "妊娠期或哺乳期女性,或近期有妊娠计划者"
    assert (trial.min_age_years, trial.max_age_years, trial.sex) == (18, 60, "ALL")
    assert trial.ethics_approved is True
    assert trial.ethics_approval_number == "SH9H-2026-T275-1"
    assert trial.ethics_approval_date.value == datetime.date(2026, 5, 21)
    assert trial.has_dmc is True
    assert trial.ipd_sharing == "YES"
    assert trial.phases == ("NA",)
    assert trial.start_date.value == datetime.date(2026, 1, 1)
    assert trial.recruitment_start_date.value == datetime.date(2026, 6, 16)
    assert [sample.name for sample in trial.biospecimens] == [
        "Peripheral blood sample",
        "Samples of femoral head related tissues",
        "Synovial sample",
        "Bone marrow sample",
    ]
    assert [(site.country, site.region, site.level) for site in trial.sites] == [("China", "Shanghai", "Tertiary A")]
    assert trial.interventions[0].arm_labels == ("Single arm treatment group",)
    assert [contact.role for contact in trial.contacts] == ["applicant", "study leader"]
    assert trial.contacts[1].name == "Yuanqing Mao"


def test_chictr_liver_failure_trial_splits_inline_numbered_exclusions(seed_bytes):
    trial = parse_one(seed_bytes("ChiCTR2600127123"))
    assert trial.study_type == "OBSERVATIONAL"
    assert trial.registration_timing == "retrospective"
    assert [(arm.label, arm.planned_size) for arm in trial.arms] == [
        ("Immunotherapy group", 75),
        ("non-Immunotherapy group", 75),
    ]
    assert trial.enrollment_target == 150
    assert trial.interventions == ()  # both groups say "None"
    exclusion = kinds(trial, "exclusion")
    assert len(exclusion) == 8
    assert exclusion[0].text == "Age < 18 or > 80 years"
    assert exclusion[0].text_original == "年龄<18或>80岁"
    assert exclusion[7].text == "Others, such as HIV, syphilis, etc."
    assert (trial.min_age_years, trial.max_age_years) == (18, 80)
    assert trial.has_dmc is False
    assert trial.ethics_approval_number == "浙大一院伦审2025研第120号-会"


def test_ctgov_compact_page(seed_bytes):
    trial = parse_one(seed_bytes("NCT07101562"))
    assert trial.registry_id == "NCT07101562"
    assert trial.status == "NOT_YET_RECRUITING"
    assert trial.enrollment_target == 30
    assert (trial.allocation, trial.intervention_model, trial.primary_purpose, trial.masking) == (
        "NA",
        "SINGLE_GROUP",
        "TREATMENT",
        "NONE",
    )
    assert len(kinds(trial, "inclusion")) == 7
    assert len(kinds(trial, "exclusion")) == 28
    assert kinds(trial, "inclusion")[0].text.startswith("Meets the diagnostic criteria")
    assert "AST or ALT > 2 × upper limits" in kinds(trial, "exclusion")[12].text  # markdown escape removed
    assert (trial.min_age_years, trial.max_age_years, trial.sex, trial.healthy_volunteers) == (20, 65, "ALL", False)
    assert [(arm.label, arm.type) for arm in trial.arms] == [
        ("Tissue-engineered bone to repair Avascular Necrosis of Femur Head", "")
    ]
    assert trial.interventions[0].arm_labels == ("Tissue-engineered bone to repair Avascular Necrosis of Femur Head",)
    assert [(site.city, site.region, site.country) for site in trial.sites] == [("Xinxiang", "Henan", "China")]
    assert [(sponsor.name, sponsor.role) for sponsor in trial.sponsors] == [
        ("The First Affiliated Hospital of Xinxiang Medical College", "lead")
    ]
    assert [(identifier.value, identifier.type) for identifier in trial.identifiers] == [
        ("TEBANFH-2023", "org_study_id")
    ]


def test_ctgov_labelled_page(seed_bytes):
    trial = parse_one(seed_bytes("NCT06379243"))
    assert trial.status == "RECRUITING"
    assert trial.enrollment_target == 560
    assert trial.primary_purpose == "DIAGNOSTIC"
    assert len(trial.sponsors) == 4
    assert [sponsor.name for sponsor in trial.sponsors if sponsor.role == "lead"] == [
        "The Seventh Affiliated Hospital of Sun Yat-sen University"
    ]
    assert "R2* image-based" in trial.brief_summary
    assert (trial.min_age_years, trial.max_age_years) == (50, 90)
    assert [(arm.label, arm.type) for arm in trial.arms] == [("non-operative vertebra refracture", "EXPERIMENTAL")]
    assert [(item.name, item.type, item.arm_labels) for item in trial.interventions] == [
        ("PVP/PKP", "PROCEDURE", ("non-operative vertebra refracture",))
    ]
    assert len(kinds(trial, "inclusion")) == 3
    assert len(kinds(trial, "exclusion")) == 3
    assert trial.sites[0].status == "RECRUITING"
    assert [contact.role for contact in trial.contacts] == ["PRINCIPAL_INVESTIGATOR", "CONTACT", "primary"]


def test_raw_json_page(seed_bytes):
    trial = parse_one(seed_bytes("NCT06731192"))
    assert trial.phases == ("PHASE2", "PHASE3")
    assert [(arm.label, arm.type) for arm in trial.arms] == [
        ("MSC Theatment", "EXPERIMENTAL"),
        ("Placebo Control", "PLACEBO_COMPARATOR"),
    ]
    assert (trial.min_age_years, trial.max_age_years) == (3, 12)
    assert trial.acronym == "HUCMSC"
    assert trial.masking == "SINGLE"
    assert trial.who_masked == ("PARTICIPANT",)
    assert len(kinds(trial, "inclusion")) == 8
    assert len(kinds(trial, "exclusion")) == 15
    assert kinds(trial, "exclusion")[0].text == "Age <3 years or >12 years old"
    assert [c.name for c in trial.conditions if not c.vocabulary] == ["Alport Syndrome"]
    assert [c.name for c in trial.conditions if c.vocabulary == "MeSH"] == ["Nephritis, Hereditary"]
    assert trial.interventions[1].arm_labels == ("Placebo Control",)
    assert trial.has_dmc is True
    assert trial.ipd_sharing == "NO"
    assert trial.registration_timing == "prospective"


def test_raw_json_page_is_read_as_a_literal_never_evaluated():
    payload = b"Viewing Study NCT00000001\n\nRaw JSON\n\n{'protocolSection': __import__('os').system('true')}"
    with pytest.raises(ParseError, match="not a plain literal"):
        list(raw_json_page.parse(payload))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02\xff\xfe binary", "not"),
        (b"Dear colleague,\nthe minutes are attached.\n", "not a recognised registry format"),
        (b'{"studies": [{"protocolSection": ', "broken JSON"),
        (b'{"hello": "world"}', "no protocolSection"),
    ],
)
def test_bad_input_gives_a_clear_reason(payload, message):
    with pytest.raises(ParseError, match=message):
        list(detect.parse(payload))


@pytest.mark.parametrize("registry_id", ["ChiCTR2600126638", "NCT07101562", "NCT06731192"])
def test_a_truncated_seed_is_refused_not_half_read(seed_bytes, registry_id):
    payload = seed_bytes(registry_id)
    with pytest.raises(ParseError):
        list(detect.parse(payload[: len(payload) // 2]))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "gb18030"])
def test_chictr_page_in_other_encodings(seed_bytes, encoding):
    payload = seed_bytes("ChiCTR2600126638").decode("utf-8").encode(encoding)
    trial = parse_one(payload)
    assert trial.public_title_original.startswith("股骨头坏死")
    assert len(trial.outcomes) == 5


def test_ctgov_json_lines_and_pages():
    study = b'{"protocolSection": {"identificationModule": {"nctId": "NCT00000001", "briefTitle": "A &amp; B"}}}'
    assert [r.registry_id for r in ctgov_json.parse(study + b"\n" + study.replace(b"01", b"02"))] == [
        "NCT00000001",
        "NCT00000002",
    ]
    [record] = ctgov_json.parse(b'{"studies": [' + study + b'], "nextPageToken": "x"}')
    assert record.public_title == "A & B"


def test_ctgov_json_lines_are_decoded_as_the_json_module_decodes_them():
    study = b'{"protocolSection": {"identificationModule": {"nctId": "NCT0000000%d"}, "designModule": %s}}'
    lines = [
        study % (1, b'{"enrollmentInfo": {"count": 123456789012345678901234567890}}'),  # beyond 64 bits: still an int
        study % (2, b'{"enrollmentInfo": {"count": 40}, "note": NaN}'),  # not strict JSON, but json reads it
        b'{"protocolSection": ',
    ]
    first, second, broken = ctgov_json.parse(b"\n".join(lines))
    assert first.enrollment_target == 123456789012345678901234567890
    assert second.enrollment_target == 40
    assert (broken.position, broken.reason) == ("line 3", "broken JSON: Expecting value: line 1 column 21 (char 20)")


PARTNER = "The registration number of the Partner Registry or other register:\n\n"


@pytest.mark.parametrize(
    ("partner", "identifiers"),
    [
        ("NCT07101562", [("NCT07101562", "registry", "ctgov")]),
        (
            "nct07101562; ITMCTR2100005123 ChiCTR2600126638",  # the page's own id is no link
            [("NCT07101562", "registry", "ctgov"), ("ITMCTR2100005123", "registry", "itmctr")],
        ),
        ("伦理审查 2021-037", [("伦理审查 2021-037", "secondary", "")]),
    ],
)
def test_chictr_partner_registry_numbers_name_the_other_registry(seed_bytes, partner, identifiers):
    page = seed_bytes("ChiCTR2600126638").decode().replace(PARTNER, f"{PARTNER}{partner}\n\n")
    trial = parse_one(page.encode())
    assert [(i.value, i.type, i.issuer) for i in trial.identifiers] == identifiers


def test_ctgov_secondary_ids_of_registered_trials_name_their_registry():
    study = json.loads((Path(__file__).parent / "data" / "NCT06715774.json").read_text())
    study["protocolSection"]["identificationModule"]["secondaryIdInfos"] = [
        {"id": "chictr2100050545", "type": "REGISTRY", "domain": "Chinese Clinical Trial Registry"},
        {"id": "NCT06715774"},
        {"id": "U1111-1266-7399", "type": "REGISTRY", "domain": "ICTRP"},
        {"id": "2020-001234-56", "type": "EUDRACT_NUMBER"},
    ]
    [trial] = ctgov_json.parse(json.dumps(study).encode())
    assert [(i.value, i.type, i.issuer) for i in trial.identifiers] == [
        ("RG-2024-ortho", "org_study_id", "University of Salamanca"),
        ("ChiCTR2100050545", "registry", "chictr"),
        ("U1111-1266-7399", "REGISTRY", "ICTRP"),
        ("EUCTR2020-001234-56", "registry", "euctr"),
    ]
