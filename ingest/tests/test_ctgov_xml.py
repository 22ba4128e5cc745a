"""Legacy ClinicalTrials.gov XML, read from real records (facts checked by hand against the XML).

The fixtures are copied byte for byte from the shared registry samples: NCT00000223 from
reesewang25/enrollment_and_studylength (AllPublicXML, February 2023), the others from the test data of
ctti-clinicaltrials/aact (spec/support/xml_data, downloaded 2017-2018).
"""

import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from ingest import detect
from ingest.parsers import ctgov_xml
from ingest.records import ParseError, PartialDate
from trials.models import Site, Trial

FIXTURES = Path(__file__).parent / "fixtures" / "ctgov-xml"


def read(nct_id: str) -> bytes:
    return (FIXTURES / f"{nct_id}.xml").read_bytes()


def parse(nct_id: str):
    [trial] = ctgov_xml.parse(read(nct_id))
    return trial


def texts(trial, kind: str) -> list[str]:
    return [criterion.text for criterion in trial.criteria if criterion.kind == kind]


@pytest.mark.parametrize("nct_id", [path.stem for path in FIXTURES.glob("*.xml")])
def test_every_fixture_is_detected_as_ctgov_xml_and_keeps_its_bytes(nct_id):
    payload = read(nct_id)
    assert detect.detect(payload) is ctgov_xml
    [trial] = detect.parse(payload)
    assert (trial.registry, trial.registry_id) == ("ctgov", nct_id)
    assert trial.source == payload
    assert (trial.source_format, trial.parser_version) == ("ctgov-xml", "ctgov-xml/1")
    assert trial.source_url == f"https://clinicaltrials.gov/study/{nct_id}"


def test_a_study_with_results_reads_its_protocol_and_flags_the_results():
    trial = parse("NCT01357915")
    assert trial.has_results is True
    assert trial.public_title.startswith("Evaluation of the Long-term Persistence of GlaxoSmithKline")
    assert trial.scientific_title.startswith("A Follow-up Study to Evaluate the Long-term Persistence")
    assert (trial.status, trial.status_text) == ("COMPLETED", "Completed")
    assert (trial.phases, trial.phase_text) == (("NA",), "N/A")
    assert (trial.allocation, trial.intervention_model, trial.primary_purpose) == (
        "NON_RANDOMIZED",
        "PARALLEL",
        "PREVENTION",
    )
    assert (trial.masking, trial.who_masked) == ("NONE", ())
    assert (trial.enrollment_actual, trial.enrollment_target) == (47, None)
    assert trial.start_date == PartialDate(datetime.date(2011, 6, 24), "day")
    assert trial.registration_date == PartialDate(datetime.date(2011, 5, 12), "day")
    assert trial.registration_timing == "prospective"
    assert [(arm.label, arm.type, arm.type_text) for arm in trial.arms] == [
        ("GSK149203A S- Group", "EXPERIMENTAL", "Experimental"),
        ("GSK149203A S+ Group", "OTHER", "Other"),
    ]
    assert [(item.name, item.type, item.arm_labels) for item in trial.interventions] == [
        ("Blood sampling", "PROCEDURE", ("GSK149203A S- Group", "GSK149203A S+ Group")),
        ("GSK149203A", "BIOLOGICAL", ("GSK149203A S- Group",)),
    ]
    assert [outcome.kind for outcome in trial.outcomes] == ["primary"] * 2 + ["secondary"] * 5
    assert trial.outcomes[0].time_frame == "At Month 48 and Month 60"
    assert (trial.sex, trial.min_age_years, trial.max_age_years, trial.healthy_volunteers) == ("MALE", 18, 45, True)
    assert trial.extra["results_first_posted"] == "2017-10-06"


def test_a_paragraph_between_bullets_is_a_criterion_of_its_own():
    trial = parse("NCT01357915")
    inclusion, exclusion = texts(trial, "inclusion"), texts(trial, "exclusion")
    assert (len(inclusion), len(exclusion)) == (7, 8)
    assert inclusion[3] == "Subjects of the vaccine group should in addition satisfy the following criterion:"
    assert inclusion[4].startswith("Subjects who participated in the primary study 108890 (NCT00435396), having")
    assert exclusion[0].startswith("Use, or planned use, of any investigational or non-registered product")


def test_an_eudract_number_among_the_secondary_ids_links_the_eu_register():
    trial = parse("NCT03494712")
    assert [(item.value, item.type, item.issuer) for item in trial.identifiers] == [
        ("CL1-95010-001", "org_study_id", "Servier"),
        ("EUCTR2017-004180-12", "registry", "euctr"),
    ]


def test_masking_names_who_is_masked_and_the_ipd_statement_is_kept():
    trial = parse("NCT03494712")
    assert (trial.masking, trial.who_masked) == ("DOUBLE", ("PARTICIPANT", "INVESTIGATOR"))
    assert (trial.allocation, trial.intervention_model, trial.phases) == ("RANDOMIZED", "SEQUENTIAL", ("PHASE1",))
    assert (trial.enrollment_target, trial.enrollment_actual) == (49, None)  # "Anticipated"
    assert (trial.ipd_sharing, trial.ipd_sharing_text) == ("YES", "Yes")
    assert trial.ipd_sharing_description.startswith("Researchers can ask for a study protocol, patient-level")
    assert trial.has_dmc is False
    assert [(sponsor.name, sponsor.role, sponsor.agency_class) for sponsor in trial.sponsors] == [
        ("Institut de Recherches Internationales Servier", "lead", "OTHER"),
        ("ADIR Association", "collaborator", "OTHER"),
    ]
    assert [(site.facility, site.city, site.country, site.status) for site in trial.sites] == [
        ("SGS Clinical Pharmacology Unit", "Antwerpen", "Belgium", "RECRUITING")
    ]
    assert trial.contacts[0].email == "clinicaltrials@servier.com"
    assert trial.extra["is_fda_regulated_drug"] == "Yes"


def test_an_observational_study_reads_its_design_population_and_samples():
    trial = parse("NCT00482794")
    assert (trial.study_type, trial.status) == ("OBSERVATIONAL", "RECRUITING")
    assert (trial.observational_model, trial.time_perspective) == ("COHORT", "OTHER")
    assert trial.phases == ()
    assert trial.enrollment_target == 2800
    assert trial.start_date == PartialDate(datetime.date(2006, 6, 1), "month")
    assert trial.completion_date == PartialDate(datetime.date(2018, 12, 1), "month")
    assert trial.extra["completion_date_type"] == "Anticipated"
    assert [arm.label for arm in trial.arms] == ["1", "2", "3"]
    assert [(sample.name, sample.fate) for sample in trial.biospecimens] == [
        ("Serum, plasma, and DNA samples", "Samples With DNA")
    ]
    assert trial.extra["study_population"] == (
        "Individuals with antiphospholipid antibody syndrome and their family members"
    )
    assert trial.extra["sampling_method"] == "Non-Probability Sample"
    assert (trial.min_age_text, trial.min_age_years, trial.max_age_years) == ("N/A", None, None)


def test_numbered_sub_items_of_a_dashed_criterion_are_criteria():
    trial = parse("NCT00482794")
    inclusion = texts(trial, "inclusion")
    assert len(inclusion) == 8
    assert inclusion[0].startswith("Persistent presence of an antiphospholipid antibody")
    assert inclusion[1].startswith("Medium or high anticardiolipin antibody level in the blood")
    assert inclusion[7].startswith("People who have elevated antiphospholipid antibody levels")
    assert texts(trial, "exclusion") == ["No documented presence of antiphospholipid antibody"]


def test_textblocks_are_unwrapped_into_paragraphs():
    trial = parse("NCT03245528")
    assert trial.description == (
        "Primary Objective\n\nThe primary objective of the study is to provide access to LJPC-501 for distributive "
        "shock patients who remain hypotensive despite receiving fluid and vasopressor therapy.\n\nSecondary "
        "Objective\n\nThe secondary objective of the study is to assess the safety of LJPC-501."
    )


def test_an_expanded_access_record_with_the_2017_date_tags():
    trial = parse("NCT03245528")
    assert (trial.study_type, trial.status) == ("EXPANDED_ACCESS", "AVAILABLE")
    assert trial.extra["expanded_access_types"] == "Treatment"
    assert trial.registration_date == PartialDate(datetime.date(2017, 8, 7), "day")
    assert trial.last_update_date == PartialDate(datetime.date(2017, 8, 10), "day")  # posted, not submitted
    assert (len(texts(trial, "inclusion")), len(texts(trial, "exclusion"))) == (5, 14)
    assert [condition.name for condition in trial.conditions if condition.vocabulary == "MeSH"] == [
        "Shock",
        "Hypotension",
    ]


def test_a_1999_record_with_month_dates_and_an_untyped_enrollment():
    trial = parse("NCT00000223")
    assert trial.registration_date == PartialDate(datetime.date(1999, 9, 20), "day")
    assert trial.start_date == PartialDate(datetime.date(1993, 6, 1), "month")
    assert trial.start_date.isoformat() == "1993-06"
    assert trial.registration_timing == "retrospective"
    assert (trial.enrollment_target, trial.enrollment_actual) == (0, None)
    assert (trial.intervention_model, trial.masking, trial.who_masked) == ("CROSSOVER", "DOUBLE", ())
    assert (trial.phases, trial.primary_purpose) == (("PHASE2",), "TREATMENT")
    assert [outcome.measure for outcome in trial.outcomes][:2] == ["Drug use", "Opioid withdrawal"]
    assert texts(trial, "inclusion") == ["Please contact site for information."]
    assert [(contact.role, contact.name, contact.affiliation) for contact in trial.contacts] == [
        ("PRINCIPAL_INVESTIGATOR", "Warren Bickel, Ph.D.", "University of Vermont")
    ]
    assert [(sponsor.name, sponsor.role, sponsor.agency_class) for sponsor in trial.sponsors] == [
        ("National Institute on Drug Abuse (NIDA)", "lead", "NIH"),
        ("University of Vermont", "collaborator", "OTHER"),
    ]
    assert trial.extra["verification_date"] == "1994-09"


def test_many_locations_become_sites_and_a_merged_nct_id_is_an_alias():
    trial = parse("NCT00081588")
    assert len(trial.sites) == 68
    assert (trial.sites[0].city, trial.sites[0].region, trial.sites[0].country) == (
        "Birmingham",
        "Alabama",
        "United States",
    )
    assert trial.sites[0].facility == ""  # this sponsor names cities only
    countries = [site.country for site in trial.sites]
    assert (len(set(countries)), countries.count("United States"), countries.count("Germany")) == (13, 26, 9)
    assert "Puerto Rico" not in countries
    assert trial.extra["removed_countries"] == "Puerto Rico"
    assert ("NCT00980226", "registry", "ctgov") in [(item.value, item.type, item.issuer) for item in trial.identifiers]
    assert ("TMC114-C215", "secondary", "") in [(item.value, item.type, item.issuer) for item in trial.identifiers]
    assert (trial.enrollment_actual, trial.has_dmc, trial.sex) == (555, True, "ALL")
    assert trial.start_date == PartialDate(datetime.date(2003, 11, 1), "month")


def test_a_redacted_device_trial_has_no_study_type():
    trial = parse("NCT03182660")
    assert (trial.status, trial.study_type, trial.study_type_text) == ("WITHHELD", "", "N/A")
    assert trial.public_title == "[Trial of device that is not approved or cleared by the U.S. FDA]"
    assert trial.criteria == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<?xml version="1.0" encoding="UTF-8"?>\n<clinical_study>\n  <!-- comment -->', True),
        ("<clinical_study rank='1'>", True),
        (
            '\ufeff<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE clinical_study [<!ENTITY a "b">]>\n'
            "<clinical_study>",
            True,
        ),
        ('<?xml version="1.0"?>\n<search_results count="2">', False),
        ('{"protocolSection": {}}', False),
    ],
)
def test_looks_like_a_clinical_study_document(text, expected):
    assert ctgov_xml.looks_like(text) is expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            read("NCT00000223").replace(b"</brief_title>", b"</brief_titl>"),
            "broken XML at line 14, column 74: mismatched tag",
        ),
        (read("NCT00000223")[:2000], "it looks truncated"),
        (b"<clinical_study><brief_title>No id</brief_title></clinical_study>", "no id_info/nct_id"),
    ],
)
def test_a_malformed_file_gives_a_parse_error_that_says_where(payload, message):
    with pytest.raises(ParseError, match=message):
        list(ctgov_xml.parse(payload))


ENTITY_ATTACKS = {
    "billion laughs": b"""<?xml version="1.0"?>
<!DOCTYPE clinical_study [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info><brief_title>&lol3;</brief_title></clinical_study>
""",
    "external entity": b"""<?xml version="1.0"?>
<!DOCTYPE clinical_study [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info><brief_title>&secret;</brief_title></clinical_study>
""",
}


@pytest.mark.parametrize("name", ENTITY_ATTACKS)
def test_entity_declarations_are_refused_not_expanded(name):
    payload = ENTITY_ATTACKS[name]
    assert detect.detect(payload) is ctgov_xml
    with pytest.raises(ParseError, match="refused XML"):
        list(detect.parse(payload))


@pytest.mark.django_db
def test_the_ingest_command_loads_the_fixture_folder():
    out = io.StringIO()
    call_command("ingest", str(FIXTURES), stdout=out, stderr=io.StringIO())
    assert "7 files: 7 created, 0 updated, 0 unchanged, 0 failed" in out.getvalue()
    assert set(Trial.objects.values_list("registry_id", flat=True)) == {path.stem for path in FIXTURES.glob("*.xml")}
    trial = Trial.objects.get(registry_id="NCT01357915")
    assert (trial.has_results, trial.enrollment, trial.start_date_precision) == (True, 47, "day")
    assert trial.sources.get().format == "ctgov-xml"
    assert Site.objects.filter(trial__registry_id="NCT00081588").count() == 68
    assert trial.identifiers.filter(type="registry", value="EUCTR2011-002702-78").exists()
