"""WHO ICTRP exports (XML and CSV) read from real records cut out of the shared samples."""

import dataclasses
import datetime
import re
import tracemalloc
from pathlib import Path

import pytest

from ingest import detect
from ingest.parsers import ictrp_csv, ictrp_xml
from ingest.records import ParseError, RecordFailure, TrialRecord

FIXTURES = Path(__file__).parent / "fixtures" / "ictrp"
COVID_XML = "ICTRP-Results_18Mar2020-excerpt.xml"
EUCTR_XML = "ICTRP-Results_long_2014-EUCTR-excerpt.xml"
CTRI_XML = "ICTRP-Results_saro_2014-CTRI-excerpt.xml"
COVID_CSV = "COVID19-1135-trials-excerpt.csv"


def read_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def trials(name: str) -> dict[str, TrialRecord]:
    records = list(detect.detect(read_fixture(name)).parse(read_fixture(name)))
    assert all(isinstance(record, TrialRecord) for record in records)
    return {record.registry_id: record for record in records}


def kinds(record, kind):
    return [criterion.text for criterion in record.criteria if criterion.kind == kind]


def text_values(value):
    """Every string inside a record, its children and extra (the raw source aside)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from text_values(item)
    elif isinstance(value, dict):
        yield from text_values(list(value.values()))
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            if field.name != "source":
                yield from text_values(getattr(value, field.name))


@pytest.mark.parametrize(
    ("name", "parser"),
    [(COVID_XML, ictrp_xml), (EUCTR_XML, ictrp_xml), (CTRI_XML, ictrp_xml), (COVID_CSV, ictrp_csv)],
)
def test_ictrp_exports_are_detected_by_content(name, parser):
    assert detect.detect(read_fixture(name)) is parser


def test_every_record_of_each_export_is_read_with_its_registry():
    assert {name: sorted({t.registry for t in trials(name).values()}) for name in (COVID_XML, CTRI_XML, EUCTR_XML)} == {
        COVID_XML: ["chictr", "ctgov"],
        CTRI_XML: ["ctri"],
        EUCTR_XML: ["euctr"],
    }
    assert [(t.registry_id, t.registry) for t in trials(COVID_CSV).values()] == [
        ("ChiCTR2000029953", "chictr"),
        ("ChiCTR2000029770", "chictr"),
        ("NCT04246242", "ctgov"),
        ("EUCTR2015-002340-14-NL", "euctr"),
        ("EUCTR2020-001224-33-DE", "euctr"),
        ("DRKS00021134", "drks"),
        ("IRCT20100228003449N27", "irct"),
        ("JPRN-jRCTs031190227", "jprn"),
        ("JPRN-UMIN000039686", "jprn"),
        ("ISRCTN14966673", "isrctn"),
        ("ACTRN12620000421932", "anzctr"),
        ("NL8501", "ntr"),
        ("TCTR20200321001", "tctr"),
    ]


def test_no_html_is_left_in_any_text_field():
    for name in (COVID_XML, EUCTR_XML, CTRI_XML, COVID_CSV):
        for trial in trials(name).values():
            for text in text_values(trial):
                assert not re.search(r"<\s*/?\s*(?:br|p)\b|&lt;|&gt;|&amp;", text, re.I), (trial.registry_id, text)


def test_chictr_groups_give_arms_with_their_sizes_and_the_enrolment_is_their_sum():
    trial = trials(COVID_XML)["ChiCTR2000029953"]
    assert trial.public_title == (
        "Construction and Analysis of Prognostic Predictive Model of Novel Coronavirus Pneumonia (COVID-19)"
    )
    assert trial.scientific_title == trial.public_title  # the export pads it with spaces
    assert [(arm.label, arm.planned_size) for arm in trial.arms] == [("survival group", 200), ("died", 200)]
    assert trial.enrollment_target == 400
    assert trial.interventions == ()  # "survival group:none;died:none;"
    assert (trial.status, trial.status_text) == ("ACTIVE_NOT_RECRUITING", "Not Recruiting")
    assert (trial.study_type, trial.phases) == ("OBSERVATIONAL", ("NA",))
    assert trial.registration_date.value == datetime.date(2020, 2, 17)
    assert trial.start_date.value == datetime.date(2020, 2, 1)
    assert trial.registration_timing == "prospective"
    assert [outcome.measure for outcome in trial.outcomes] == [
        "duration of in hospital",
        "in hospital mortality",
        "the 28s day' mortality after admission",
        "duration of ICU stay",
    ]
    assert [site.country for site in trial.sites] == ["China"]
    assert [(contact.name, contact.email) for contact in trial.contacts] == [("Yan Zhao", "doctoryanzhao@whu.edu.cn")]
    assert trial.source_url == "http://www.chictr.org.cn/showproj.aspx?proj=49217"


def test_chictr_numbered_criteria_and_ages_without_a_unit():
    trial = trials(COVID_XML)["ChiCTR2000030116"]
    assert [(arm.label, arm.planned_size) for arm in trial.arms] == [("Two groups", 16)]
    assert [(item.name, item.arm_labels) for item in trial.interventions] == [
        ("Different stem cell doses", ("Two groups",))
    ]
    assert len(kinds(trial, "inclusion")) == 5
    assert kinds(trial, "inclusion")[0] == "Aged 18-75 years"
    assert len(kinds(trial, "exclusion")) == 10
    assert kinds(trial, "exclusion")[8] == "HIV positive patients"
    assert (trial.min_age_years, trial.max_age_years, trial.min_age_text) == (18, 75, "18")


def test_chictr_diagnostic_test_names_its_tests_as_interventions():
    trial = trials(COVID_XML)["ChiCTR2000029695"]
    assert [(arm.label, arm.planned_size) for arm in trial.arms] == [
        ("Target condition", 300),
        ("Difficult condition", 300),
    ]
    assert [(item.name, item.type, item.type_text) for item in trial.interventions] == [
        ("RT-PCR of the novel coronavirus", "DIAGNOSTIC_TEST", "Gold Standard"),
        ("Exhaled breath detection by mass spectrometry", "DIAGNOSTIC_TEST", "Index test"),
    ]
    assert (trial.study_type_text, trial.primary_purpose) == ("Diagnostic test", "DIAGNOSTIC")


def test_chictr_intervention_with_colons_of_its_own_stays_with_its_group():
    trial = trials(COVID_XML)["ChiCTR2000029548"]
    assert [(arm.label, arm.planned_size) for arm in trial.arms] == [("A", 10), ("B", 10), ("C", 10)]
    assert [item.arm_labels for item in trial.interventions] == [("A",), ("B",), ("C",)]
    assert trial.interventions[0].name.startswith("BaloxavirMarboxil:80mg on day1,80mg on day4; and 80mg")


def test_ctgov_record_splits_its_one_criteria_field_and_merges_repeated_contacts():
    trial = trials(COVID_XML)["NCT04275947"]
    assert (trial.acronym, trial.status, trial.enrollment_target) == ("CMHS", "RECRUITING", 450)
    assert kinds(trial, "inclusion") == ["High risk of COVID-19", "RT-PCR test result of SAR2-CoV-19"]
    assert kinds(trial, "exclusion") == ["Not available for RT-PCR test result of SAR2-CoV-19"]
    assert (trial.min_age_years, trial.max_age_years, trial.sex) == (18, 90, "ALL")
    assert [(item.name, item.type) for item in trial.interventions] == [
        ("nCapp, a cell phone-based auto-diagnosis system", "OTHER")
    ]
    # Three ";"-separated listings of one person: one contact with the email and phone of the later ones.
    assert [(c.name, c.email, c.affiliation) for c in trial.contacts] == [
        ("Chunxue Bai", "bai.chunxue@zs-hospital.sh.cn", "Shanghai Respiratory Research Institution")
    ]


def test_ctgov_design_sentence_gives_allocation_model_purpose_and_masking():
    trial = trials(COVID_CSV)["NCT04246242"]
    assert (trial.allocation, trial.intervention_model, trial.primary_purpose) == (
        "RANDOMIZED",
        "PARALLEL",
        "TREATMENT",
    )
    assert (trial.masking, trial.who_masked) == ("SINGLE", ("PARTICIPANT",))
    assert trial.phases == ("PHASE4",)
    assert [(item.name, item.type) for item in trial.interventions] == [
        ("arbidol,400mg,tid", "DRUG"),
        ("arbidol,200mg,tid", "DRUG"),
        ("Conventional treatment group", "DRUG"),
    ]
    assert trial.start_date.isoformat() == "2020-01-25"


def test_euctr_xml_record_with_internal_number_and_yes_no_design():
    trial = trials(EUCTR_XML)["EUCTR2004-001298-24-ES"]
    assert trial.extra["internal_number"] == "2452965"
    assert (trial.status, trial.status_text) == ("UNKNOWN", "Authorised")
    assert (trial.allocation, trial.intervention_model, trial.masking) == ("RANDOMIZED", "PARALLEL", "NONE")
    assert trial.registration_date.value == datetime.date(2004, 6, 28)
    assert trial.enrollment_target == 168
    assert [(item.name, item.code) for item in trial.interventions] == [("cera", "RO 0503821"), ("Neorecormon", "")]
    assert trial.objectives.startswith("Main objective: To demonstrate the efficay of IV RO 0503821")
    assert [outcome.measure for outcome in trial.outcomes] == [
        "To demonstrate the efficay of IV RO 0503821 treatment for correction of anemia in patients with kidney "
        "chronic disease who are on dialysis"
    ]
    # "Are the trial subjects under 18? no" is a lower limit; the age-group lines are no criteria.
    assert trial.min_age_years == 18
    assert kinds(trial, "inclusion") == [
        "Baseline predialysis (for HD patients) Hb concentration 8-11 g/dL determined from the mean of 2 screening "
        "values with at least one day between measurements"
    ]
    assert (trial.sex, trial.sex_text) == ("ALL", "Female: yes Male: yes")
    assert [(i.value, i.type) for i in trial.identifiers] == [("BA16736", "secondary")]


def test_euctr_csv_record_reads_phase_answers_conditions_and_countries():
    trial = trials(COVID_CSV)["EUCTR2015-002340-14-NL"]
    assert trial.phases == ("PHASE4",)
    assert trial.phase_text.startswith("Human pharmacology (Phase I): no; Therapeutic exploratory (Phase II): no")
    assert [(c.name, c.code, c.vocabulary) for c in trial.conditions] == [
        ("Severe Community Acquired Pneumonia", "", ""),
        ("Community acquired pneumonia", "10010120", "MedDRA"),
        ("Respiratory Tract Diseases", "C08", "MeSH"),
    ]
    assert len(trial.sites) == 15
    assert trial.sites[0].country == "Portugal"
    assert trial.extra["bridged_type"] == "parent"
    assert [outcome.time_frame for outcome in trial.outcomes] == ["90 Days from the date of enrolment"]
    assert trial.enrollment_target == 4000
    double_blind = trials(COVID_CSV)["EUCTR2020-001224-33-DE"]
    assert (double_blind.phases, double_blind.masking) == (("PHASE2",), "DOUBLE")


def test_ctri_records_read_masked_roles_timepoints_and_control_interventions():
    trial = trials(CTRI_XML)["CTRI/2009/091/000527"]
    assert trial.registration_date.value == datetime.date(2009, 9, 9)  # written 09-09-2009
    assert (trial.allocation, trial.intervention_model) == ("RANDOMIZED", "PARALLEL")
    assert (trial.masking, trial.who_masked) == ("TRIPLE", ("PARTICIPANT", "INVESTIGATOR", "OUTCOMES_ASSESSOR"))
    assert trial.randomization_text == "Computer generated randomization"
    assert [(item.name, item.type_text) for item in trial.interventions] == [
        ("ZYH1", ""),
        ("Pioglitazone", "Control intervention"),
    ]
    assert (trial.outcomes[0].kind, trial.outcomes[0].measure, trial.outcomes[0].time_frame) == (
        "primary",
        "Primary Efficacy TG",
        "Time frame 12 and 24 weeks",
    )
    assert [o.kind for o in trial.outcomes] == ["primary", "secondary"]
    assert trial.funding == "Cadila Healthcare Limited"
    glued = trials(CTRI_XML)["CTRI/2010/091/000108"]  # "TriglycerideTimepoint: ..."
    assert [(o.measure, o.time_frame) for o in glued.outcomes if o.kind == "secondary"][-1] == (
        "Triglyceride",
        "at 6 weeks and 12 weeks",
    )


def test_irct_outcomes_time_and_method_and_groups_named_in_interventions():
    trial = trials(COVID_CSV)["IRCT20100228003449N27"]
    assert [(o.measure, o.time_frame, o.description) for o in trial.outcomes] == [
        ("Complications of the treatment", "Daily", "Interview and patient's record"),
        ("Response to the treatment", "Daily", "According the clinical, paraclinical and laboratory findings"),
    ]
    assert [arm.label for arm in trial.arms] == ["Intervention group", "Control group"]
    assert trial.phases == ("PHASE2", "PHASE3")
    assert (trial.masking, trial.blinding_text) == ("NONE", "Not blinded")
    assert trial.sites[0].country == "Iran (Islamic Republic of)"


@pytest.mark.parametrize(
    ("registry_id", "minimum", "maximum"),
    [
        ("JPRN-jRCTs031190227", 20, None),  # ">= 20age old", "Not applicable"
        ("JPRN-UMIN000039686", 1, 100),  # "1years-old", "100years-old"
        ("DRKS00021134", 18, None),  # "18 Years", "no maximum age"
        ("ACTRN12620000421932", None, None),  # "No limit"
        ("ChiCTR2000029953", None, None),
    ],
)
def test_age_limits_in_every_registry_spelling(registry_id, minimum, maximum):
    trial = trials(COVID_CSV)[registry_id]
    assert (trial.min_age_years, trial.max_age_years) == (minimum, maximum)


def test_other_registries_of_the_csv_export():
    rows = trials(COVID_CSV)
    assert [(c.name, c.code, c.vocabulary) for c in rows["DRKS00021134"].conditions] == [
        ("Other viral pneumonia", "J12.8", "ICD-10")
    ]
    assert [(o.measure, o.time_frame) for o in rows["ACTRN12620000421932"].outcomes] == [
        ("Mortality", "At hospital discharge or 28 days post intensive care unit admission, whichever comes later")
    ]
    assert [site.country for site in rows["JPRN-UMIN000039686"].sites] == [
        "Japan",
        "Asia(except Japan)",
        "Australia",
        "Europe",
    ]
    assert (rows["ISRCTN14966673"].allocation, rows["ISRCTN14966673"].primary_purpose) == (
        "NON_RANDOMIZED",
        "DIAGNOSTIC",
    )
    assert rows["ChiCTR2000029770"].arms[0].planned_size == 500  # "Case series:500;"
    assert len(rows["ChiCTR2000029770"].outcomes) == 23


def test_secondary_ids_that_are_trial_ids_link_to_their_registry():
    payload = read_fixture(CTRI_XML).replace(
        b"<Secondary_ID>ZYH1.08.001.01.1.PROT+1 Amendment</Secondary_ID>",
        b"<Secondary_ID>ZYH1-PROT;NCT01234567;EUCTR2009-012345-12-DE</Secondary_ID>",
    )
    trial = next(iter(ictrp_xml.parse(payload)))
    assert [(i.value, i.type, i.issuer) for i in trial.identifiers] == [
        ("ZYH1-PROT", "secondary", ""),
        ("NCT01234567", "registry", "ctgov"),
        ("EUCTR2009-012345-12-DE", "registry", "euctr"),
    ]


def test_each_record_keeps_its_own_source_readable_alone():
    for name, parser in ((COVID_XML, ictrp_xml), (COVID_CSV, ictrp_csv)):
        first = next(iter(parser.parse(read_fixture(name))))
        [again] = parser.parse(first.source)
        assert dataclasses.replace(again, extra=first.extra) == first


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "gb18030", "utf-8-sig"])
@pytest.mark.parametrize("name", [COVID_XML, EUCTR_XML, COVID_CSV])
def test_other_encodings_parse_the_same(name, encoding):
    payload = read_fixture(name)
    expected = list(detect.parse(payload))
    assert list(detect.parse(payload.decode("utf-8").encode(encoding))) == expected


def test_a_broken_xml_record_is_reported_and_the_next_ones_still_come():
    payload = read_fixture(COVID_XML).replace(b"<TrialID>ChiCTR2000030116</TrialID>", b"<TrialID />", 1)
    records = list(ictrp_xml.parse(payload))
    assert isinstance(records[1], RecordFailure)
    assert records[1].position == "record 2"
    assert "TrialID" in records[1].reason
    assert [record.registry_id for record in records if isinstance(record, TrialRecord)] == [
        "ChiCTR2000029953",
        "ChiCTR2000029695",
        "NCT04275947",
        "NCT04290780",
        "ChiCTR2000029548",
    ]


def test_a_broken_csv_row_is_reported_and_the_next_ones_still_come():
    payload = read_fixture(COVID_CSV).replace(b'"Not Recruiting","No",', b"", 1)  # the first row's
    records = list(ictrp_csv.parse(payload))
    assert isinstance(records[0], RecordFailure)
    assert records[0].position.startswith("record 1 (ChiCTR2000029953) at line ")
    assert records[0].reason == "38 fields where the header names 40"
    assert len([record for record in records if isinstance(record, TrialRecord)]) == 12


def test_malformed_xml_is_refused_with_its_position_after_the_records_before_it():
    payload = read_fixture(CTRI_XML)
    cut = payload.index(b"<Trial>", payload.index(b"</Trial>")) + 200
    records = ictrp_xml.parse(payload[:cut] + b"</Trial></Trials_downloaded_from_ICTRP>")
    assert next(records).registry_id == "CTRI/2009/091/000527"
    with pytest.raises(ParseError, match=r"malformed XML after record 1: mismatched tag: line \d+, column \d+"):
        next(records)


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Trials_downloaded_from_ICTRP><Trial><TrialID>&c;</TrialID>'
        b"</Trial></Trials_downloaded_from_ICTRP>",
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<Trials_downloaded_from_ICTRP><Trial><TrialID>&x;</TrialID></Trial></Trials_downloaded_from_ICTRP>",
    ],
    ids=["billion-laughs", "external-entity"],
)
def test_entities_are_refused_never_expanded(payload):
    assert detect.detect(payload) is ictrp_xml
    with pytest.raises(ParseError, match="entities are refused"):
        list(ictrp_xml.parse(payload))


def _repeated(payload: bytes, first: bytes, last: bytes, times: int, path: Path) -> int:
    """Write the fixture with its records (from ``first`` to after ``last``) repeated; return the size."""
    start, end = payload.index(first), payload.rindex(last) + len(last)
    with path.open("wb") as out:
        out.write(payload[:start])
        for _ in range(times):
            out.write(payload[start:end])
        out.write(payload[end:])
    return path.stat().st_size


@pytest.mark.parametrize(
    ("name", "parser", "first", "last", "times"),
    [
        (EUCTR_XML, ictrp_xml, b"<Trial>", b"</Trial>", 150),
        (COVID_CSV, ictrp_csv, b'"ChiCTR2000029953"', b"\n", 75),
    ],
)
def test_parse_stream_keeps_memory_bounded(tmp_path, name, parser, first, last, times):
    path = tmp_path / "export"
    size = _repeated(read_fixture(name), first, last, times, path)
    assert size > 4_000_000
    list(parser.parse(read_fixture(name)))  # what is loaded once (regular expressions, codecs) is not counted
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            count = sum(1 for _ in parser.parse_stream(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count >= 450
    # The working memory of one record and the read buffers, however long the file: reading it whole would
    # take more than its size (bytes and decoded text).
    assert peak < size / 4
