import datetime
import io
import os
import subprocess
import sys

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
        ("18Years", 18),
        (">= 20age old", 20),
        ("100years-old", 100),
        ("no limit", None),
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
        ("09-09-2009", "2009-09-09"),
        ("20200217", "2020-02-17"),
        ("17 February 2020", "2020-02-17"),
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
        ("Not Recruiting", "ACTIVE_NOT_RECRUITING"),
        ("Authorised-recruitment may be ongoing or finished", "UNKNOWN"),
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


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (b"\xef\xbb\xbfTrialID", "utf-8-sig"),
        ("TrialID".encode("utf-16"), "utf-16"),
        ("TrialID".encode("utf-16-le"), "utf-16-le"),
        ("TrialID".encode("utf-16-be"), "utf-16-be"),
        ("股骨头坏死".encode()[:-1], "utf-8"),  # cut inside its last character
        ("股骨头坏死".encode("gb18030"), "gb18030"),
    ],
)
def test_encoding_is_told_from_the_first_bytes(head, encoding):
    assert n.detect_encoding(head) == encoding


@pytest.mark.parametrize(("encoding", "ascii_count"), [("utf-8", 65_532), ("gb18030", 65_533), ("utf-16", 65_532)])
def test_text_stream_reads_on_after_the_bytes_it_looked_at(encoding, ascii_count):
    # The 64 KiB looked at end inside a Chinese character; the rest of it comes from the stream.
    text = "股" + "x" * ascii_count + "骨头坏死" * 10_000
    assert n.text_stream(io.BytesIO(text.encode(encoding))).read() == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("Inclusion criteria: 1. Adults;\r<br>2. Consent", "Inclusion criteria: 1. Adults;\n2. Consent"),
        ("\n<br>        Inclusion Criteria:\n<br>\n<br>  -  High risk\n<br>", "Inclusion Criteria:\n\n- High risk"),
        ("&lt;br&gt;Female: yes&lt;br&gt;Male: yes&lt;br&gt;", "Female: yes\nMale: yes"),
        ("a <br/ ><br>b <p>c</p> <b>d</b>", "a\n\nb\nc\nd"),
        ("age <18 or >65 &amp; pregnant", "age <18 or >65 & pregnant"),
    ],
)
def test_html_fragments_become_text_with_their_line_breaks(html, text):
    assert n.html_text(html) == text


def test_html_line_collapses_breaks():
    assert n.html_line("Female: yes<br>Male: yes<br>") == "Female: yes Male: yes"


def test_markdown_escapes_of_the_api_are_undone():
    assert n.unescape_markdown(r"Tom \& Jerry: 3 \* 4 \< 5 \(a\)") == "Tom & Jerry: 3 * 4 < 5 (a)"


@pytest.mark.parametrize("seed", ["1", "2", "3"])
def test_two_equally_long_numbered_lists_split_the_same_way_in_every_process(seed):
    # Which style won a tie once depended on the process's string hashing (PYTHONHASHSEED).
    text = "Patients with: 1. adults 2. consent; and (1) no cancer (2) no pregnancy"
    code = f"from ingest.normalize import split_criteria; print(split_criteria({text!r}))"
    run = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
    )
    assert run.stdout.strip() == "['adults', 'consent; and (1) no cancer (2) no pregnancy']", run.stderr
