import datetime

import pytest

from ingest import normalize as n


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", 18),
        ("6 Months", 0.5),
        ("N/A", None),
        ("", None),
        ("最小 Min age 18 years", 18),
        ("2 Weeks", 0.0383),
        ("3 Minutes", 0.0),
        ("12 Hours", 0.0014),
    ],
)
def test_ages_are_years(text, years):
    assert n.parse_age(text) == years


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-06-12 15:39:47", "2026-06-12"),
        ("2024-12", "2024-12"),
        ("March 2021", "2021-03"),
        ("March 5, 2021", "2021-03-05"),
        ("15/03/2020", "2020-03-15"),
        ("2019", "2019"),
    ],
)
def test_dates_keep_their_precision(text, iso):
    assert n.parse_date(text).isoformat() == iso


def test_unreadable_date_is_none():
    assert n.parse_date("2021-13-45") is None
    assert n.parse_date("soon") is None


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("尚未开始", "NOT_YET_RECRUITING"),
        ("Not yet recruiting", "NOT_YET_RECRUITING"),
        ("正在进行", "RECRUITING"),
        ("RECRUITING", "RECRUITING"),
        ("Active, not recruiting", "ACTIVE_NOT_RECRUITING"),
        ("Completed", "COMPLETED"),
    ],
)
def test_statuses_are_shared_across_registries(text, status):
    assert n.status_from(text) == status


@pytest.mark.parametrize(
    ("text", "phases"),
    [
        ("N/A", ("NA",)),
        ("其它", ("NA",)),
        ("PHASE2, PHASE3", ("PHASE2", "PHASE3")),
        ("Phase 2/Phase 3", ("PHASE2", "PHASE3")),
        ("II-III", ("PHASE2", "PHASE3")),
        ("Early Phase 1", ("EARLY_PHASE1",)),
    ],
)
def test_phases(text, phases):
    assert n.phases_from(text) == phases


def test_sex_both_and_all_are_one_value():
    assert n.sex_from("Both") == n.sex_from("ALL") == n.sex_from("男女均可") == "ALL"
    assert n.sex_from("Female") == "FEMALE"


@pytest.mark.parametrize(("text", "answer"), [("是Yes", True), ("有/Yes", True), ("无/No", False), ("Yes", True)])
def test_yes_no(text, answer):
    assert n.yes_no(text) is answer


def test_inline_numbered_criteria_split_after_a_preamble():
    text = "Any of: 1. Age < 18 or > 80 years; 2. Pregnancy; 3. Dose of 3.5 mg; 4. Others."
    assert n.split_criteria(text) == ["Age < 18 or > 80 years", "Pregnancy", "Dose of 3.5 mg", "Others."]


def test_bulleted_criteria_join_continuation_lines():
    text = "* First criterion\n  continued here;\n* Second"
    assert n.split_criteria(text) == ["First criterion continued here", "Second"]


def test_numbered_lines_whose_first_item_was_lost():
    assert n.split_criteria("2. Two;\n3. Three;\n4. Four") == ["Two", "Three", "Four"]


def test_decoding_refuses_binary_data():
    with pytest.raises(n.ParseError, match="not"):
        n.decode_text(b"\x00\x01\x02\x03binary")


def test_decoding_gb18030():
    assert n.decode_text("股骨头坏死".encode("gb18030")) == "股骨头坏死"


def test_date_value():
    assert n.parse_date("2026-05-21").value == datetime.date(2026, 5, 21)


def test_numbers_nested_under_dashes_number_sub_items():
    text = (
        "- Antibody present, as defined by one of:\n1. Anticardiolipin antibody twice\n2. Lupus anticoagulant twice\n"
        "- Clinical symptoms, any of:\n1. Thrombosis\n2. Pregnancy morbidity\n- Affected family members"
    )
    assert n.split_criteria(text) == [
        "Antibody present, as defined by one of:",
        "Anticardiolipin antibody twice",
        "Lupus anticoagulant twice",
        "Clinical symptoms, any of:",
        "Thrombosis",
        "Pregnancy morbidity",
        "Affected family members",
    ]


def test_numbers_run_inline_in_a_dashed_item_split_that_item():
    text = (
        "* Safety concerns:\n* Lack of suitability 14. Poor metabolizer 15. Drug dependence\n"
        "* Recruited as follows: 1. Age 21-65; 2. IIEF-5 ≤ 21"
    )
    assert n.split_criteria(text) == [
        "Safety concerns:",
        "Lack of suitability",
        "Poor metabolizer",
        "Drug dependence",
        "Age 21-65",
        "IIEF-5 ≤ 21",
    ]


def test_eligibility_criteria_are_inclusion_then_exclusion():
    criteria = n.eligibility_criteria(
        "Inclusion Criteria:\n\n* Adults\n* Consent\n\nExclusion Criteria:\n\n* Pregnancy"
    )
    assert [(criterion.kind, criterion.text) for criterion in criteria] == [
        ("inclusion", "Adults"),
        ("inclusion", "Consent"),
        ("exclusion", "Pregnancy"),
    ]


def test_a_paragraph_after_a_bulleted_item_is_an_item_of_its_own():
    text = "- Healthy subjects.\n\nVaccine group subjects must also satisfy:\n\n• Took part in study 108890"
    assert n.split_criteria(text) == [
        "Healthy subjects.",
        "Vaccine group subjects must also satisfy:",
        "Took part in study 108890",
    ]
