"""ChiCTR's own XML record (WHO data-provider format, ``<trials><Triall><main>``), read from the real sample."""

import dataclasses
import datetime
from pathlib import Path

import pytest

from ingest import detect
from ingest.parsers import chictr_xml
from ingest.records import ParseError, RecordFailure

FIXTURE = Path(__file__).parent / "fixtures" / "chictr-xml" / "ChiCTR2000034346.xml"


def read_fixture() -> bytes:
    return FIXTURE.read_bytes()


def parse_one(payload: bytes):
    [trial] = chictr_xml.parse(payload)
    return trial


def test_chictr_xml_is_detected_by_content():
    assert detect.detect(read_fixture()) is chictr_xml


def test_chictr_xml_record_fields():
    trial = parse_one(read_fixture())
    assert (trial.registry, trial.registry_id) == ("chictr", "ChiCTR2000034346")
    assert (
        trial.public_title == "Survey for Surgery status of a designated Hospital for COVID-19 management in Guangzhou"
    )
    assert (trial.status, trial.status_text) == ("COMPLETED", "Completed")
    assert (trial.study_type, trial.study_type_text) == ("OTHER", "Health services reaserch")
    assert trial.primary_purpose == "HEALTH_SERVICES_RESEARCH"
    assert (trial.phases, trial.phase_text) == ((), "Retrospective study")
    assert trial.registration_date.value == datetime.date(2020, 7, 2)
    assert trial.start_date.value == datetime.date(2020, 4, 10)
    assert trial.source_url == "http://www.chictr.org.cn/showproj.aspx?proj=55654"
    assert [condition.name for condition in trial.conditions] == ["Novel Coronavirus Pneumonia (COVID-19)"]
    assert [outcome.measure for outcome in trial.outcomes] == ["decrease"]
    assert [site.country for site in trial.sites] == ["China"]
    assert [(sponsor.name, sponsor.role) for sponsor in trial.sponsors] == [("Jianxing He", "lead")]
    assert trial.funding.startswith("China National Science Foundation (81871893).")
    assert trial.source == read_fixture()


def test_chictr_xml_groups_are_arms_with_sizes():
    trial = parse_one(read_fixture())
    assert [(arm.label, arm.planned_size) for arm in trial.arms] == [("2019 Y", 2418), ("2020 Y", 821)]
    assert trial.enrollment_target == 3239
    assert trial.interventions == ()  # "2019 Y:N/A;2020 Y:N/A;"


def test_chictr_xml_criteria_and_sex():
    trial = parse_one(read_fixture())
    assert [(c.kind, c.text) for c in trial.criteria] == [
        (
            "inclusion",
            "The patients Underwent surgery during the pandemic in our hospital and the same time in 2019 "
            "were inclusion.",
        ),
        ("exclusion", "missing detailed information"),
        ("exclusion", "Types of surgery not available previously in our hospital"),
    ]
    assert (trial.min_age_years, trial.max_age_years, trial.sex) == (None, None, "ALL")


def test_chictr_xml_contacts_keep_their_type():
    trial = parse_one(read_fixture())
    assert [(c.role, c.name, c.phone, c.email) for c in trial.contacts] == [
        ("scientific contact", "Ran Zhong", "+86 15622150974", "zhongranran@163.com"),
        ("public contact", "Jianxing He", "+86 13802777270", "drjianxing.he@gmail.com"),
    ]
    assert trial.contacts[0].affiliation.startswith("Guangzhou Institute of Respiratory Health")


def test_chictr_xml_ethics_review():
    trial = parse_one(read_fixture())
    assert trial.ethics_approved is True
    assert trial.ethics_approval_date.value == datetime.date(2020, 4, 1)
    assert trial.ethics_contact == "Jun rong Liu, The First Affiliated Hospital of Guangzhou Medical University"


def test_chictr_xml_secondary_ids_keep_their_issuer_and_other_registries_are_linked():
    payload = read_fixture().replace(
        b"<sec_id/>\n        <issuing_authority/>",
        b"<sec_id>81871893</sec_id>\n        <issuing_authority>NSFC</issuing_authority>\n      </secondary_id>\n"
        b"      <secondary_id>\n        <sec_id>NCT04412345</sec_id>\n        <issuing_authority/>",
    )
    trial = parse_one(payload)
    assert [(i.value, i.type, i.issuer) for i in trial.identifiers] == [
        ("81871893", "secondary", "NSFC"),
        ("NCT04412345", "registry", "ctgov"),
    ]


def test_chictr_xml_trial_element_spelt_right_is_read_too():
    payload = read_fixture().replace(b"<Triall>", b"<Trial>").replace(b"</Triall>", b"</Trial>")
    assert detect.detect(payload) is chictr_xml
    assert parse_one(payload).registry_id == "ChiCTR2000034346"


def test_chictr_xml_chinese_text_goes_to_the_original_fields():
    payload = (
        read_fixture()
        .replace(b"<acronym/>", "<acronym>新冠手术调查</acronym>".encode())
        .replace(b"<hc_keyword/>", "<hc_keyword>新型冠状病毒肺炎</hc_keyword>".encode())
        .replace(
            b"in our hospital</exclusion_criteria>",
            "in our hospital\n(1) 缺少详细信息\n(2) 既往未开展的手术类型</exclusion_criteria>".encode(),
        )
    )
    trial = parse_one(payload)
    assert (trial.acronym, trial.acronym_original) == ("", "新冠手术调查")
    assert [(k.name, k.name_original) for k in trial.keywords] == [("新型冠状病毒肺炎", "新型冠状病毒肺炎")]
    assert trial.original_language == "zh"
    assert [(c.text, c.text_original) for c in trial.criteria if c.kind == "exclusion"] == [
        ("missing detailed information", "缺少详细信息"),
        ("Types of surgery not available previously in our hospital", "既往未开展的手术类型"),
    ]


def test_chictr_xml_in_gb18030_parses_the_same():
    payload = read_fixture().replace(b"<acronym/>", "<acronym>新冠手术调查</acronym>".encode())
    in_gb18030 = payload.decode("utf-8").encode("gb18030")
    assert parse_one(in_gb18030) == dataclasses.replace(parse_one(payload), source=in_gb18030)


def test_several_trials_in_one_file_each_keep_their_own_source():
    payload = read_fixture()
    start, end = payload.index(b"<Triall>"), payload.index(b"</Triall>") + len(b"</Triall>")
    second = payload[start:end].replace(b"ChiCTR2000034346", b"ChiCTR2000034347")
    first, other = chictr_xml.parse(payload[:end] + b"\n  " + second + payload[end:])
    assert (first.registry_id, other.registry_id) == ("ChiCTR2000034346", "ChiCTR2000034347")
    assert b"ChiCTR2000034347" in other.source
    assert b"ChiCTR2000034346" not in other.source


def test_a_trial_without_id_is_a_failure_not_a_crash():
    [failure] = chictr_xml.parse(read_fixture().replace(b"<trial_id>ChiCTR2000034346</trial_id>", b"<trial_id/>"))
    assert failure == RecordFailure(position="record 1", reason="no TrialID")


def test_chictr_xml_entities_are_refused():
    payload = (
        read_fixture()
        .replace(b"<trials ", b'<!DOCTYPE trials [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<trials ')
        .replace(b"<utrn/>", b"<utrn>&x;</utrn>")
    )
    with pytest.raises(ParseError, match="entities are refused"):
        list(chictr_xml.parse(payload))
