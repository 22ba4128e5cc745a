import csv
import dataclasses
import io
import re

import pytest
from django.urls import reverse

from ingest.detect import parse
from ingest.writer import write_trial
from trials.models import Trial
from trials.tests import children_queries

pytestmark = pytest.mark.django_db

OSTEONECROSIS = "ChiCTR2600126638,NCT07101562"
SECTIONS = (
    "Identity",
    "Status and dates",
    "Design",
    "Population",
    "Arms and interventions",
    "Outcomes",
    "Eligibility criteria",
    "Sponsors and funding",
    "Ethics and oversight",
    "Data sharing",
    "Sites and countries",
    "Registration",
)
ROW = re.compile(r'<tr class="(?P<state>differs|same)">\s*<th scope="row">(?P<label>[^<]+)<(?P<rest>.*?)</tr>', re.S)


def compare_page(client, ids, **params):
    response = client.get(reverse("trials:compare"), {"ids": ids, **params})
    return response, response.content.decode()


def rows(html):
    """(label, differs, row html) of every row of the comparison table."""
    return [(m["label"].strip(), m["state"] == "differs", m["rest"]) for m in ROW.finditer(html)]


def row_state(html, label):
    [differs] = [differs for found, differs, _ in rows(html) if found == label]
    return differs


def test_the_osteonecrosis_trials_side_by_side_with_every_section(client, seeds_loaded):
    response, html = compare_page(client, OSTEONECROSIS)
    assert response.status_code == 200
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in html
    heads = re.findall(r'<th scope="col" class="trial-head"><a href="([^"]+)"><strong>([^<]+)</strong>', html)
    assert [registry_id for _, registry_id in heads] == ["ChiCTR2600126638", "NCT07101562"]
    assert "Harris hip joint function score" in html and "Harris髋关节功能评分" in html
    [other_ids] = [row for label, _, row in rows(html) if label == "Other ids"]
    assert "TEBANFH-2023" in other_ids  # NCT07101562's own study id


def test_normalised_values_are_compared_and_the_registry_wording_shown(client, seeds_loaded):
    _, html = compare_page(client, OSTEONECROSIS)
    assert row_state(html, "Study type") is False
    assert row_state(html, "Sex") is False
    assert "(registry: 男女均可 / Both)" in html  # ChiCTR's word for ALL, shown beside the label
    assert row_state(html, "Enrolment") is True
    assert row_state(html, "Ages") is True
    [ages] = [row for label, _, row in rows(html) if label == "Ages"]
    assert "18 years to 60 years" in ages and "20 years to 65 years" in ages
    [enrolment] = [row for label, _, row in rows(html) if label == "Enrolment"]
    assert "36 (target)" in enrolment and "30 (target)" in enrolment


def test_both_trials_excluding_pregnant_women_share_a_row(client, seeds_loaded):
    _, html = compare_page(client, OSTEONECROSIS)
    criteria = [row for label, _, row in rows(html) if label == "Exclusion criterion"]
    [pregnancy] = [row for row in criteria if "Pregnant or lactating women" in row]
    assert "Pregnant women, lactating women" in pregnancy
    assert "similarity 0." in pregnancy
    # NCT07101562 lists 28 exclusions, ChiCTR2600126638 seven: the others stand alone.
    assert len(criteria) == 7 + 28 - sum("No similar item" not in row for row in criteria)
    assert '<span class="none" aria-hidden="true">—</span><span class="visually-hidden">No similar item</span>' in html


def test_age_bars_and_the_period_axis_are_drawn(client, seeds_loaded):
    _, html = compare_page(client, OSTEONECROSIS)
    for slug in ("ages", "enrolment", "periods"):
        assert f'<figure class="chart chart-{slug}">' in html
    ages = html[html.index('<figure class="chart chart-ages">') : html.index('<figure class="chart chart-enrolment">')]
    assert ages.count('<rect class="bar') == 2
    assert "18 to 60 years" in ages and "20 to 65 years" in ages
    periods = html[html.index('<figure class="chart chart-periods">') :]
    periods = periods[: periods.index("</figure>")]
    assert "2026-01-01 to 2026-12-31" in periods and "2025-07-30 to 2028-12-31" in periods
    assert all(year in periods for year in (">2025<", ">2026<", ">2027<", ">2028<", ">2029<"))


def _sixth_trial(seed_bytes):
    [record] = parse(seed_bytes("NCT06731192"))
    write_trial(dataclasses.replace(record, registry_id="NCT09999999", source=record.source + b" "))


def test_six_trials_are_compared_in_a_fixed_number_of_queries(
    client, seeds_loaded, seed_bytes, django_assert_num_queries
):
    _sixth_trial(seed_bytes)
    ids = ",".join(Trial.objects.order_by("registry_id").values_list("registry_id", flat=True))
    assert ids.count(",") == 5
    # The trials, then their children (no versions).
    with django_assert_num_queries(1 + children_queries()):
        response, html = compare_page(client, ids)
    assert response.status_code == 200
    assert html.count('class="trial-head"') == 6
    with django_assert_num_queries(1 + children_queries()):
        assert client.get(reverse("trials:compare-csv"), {"ids": ids}).status_code == 200


@pytest.mark.parametrize(
    ("ids", "status", "message"),
    [
        ("", 200, "Choose 2 to 6 trials"),
        ("NCT07101562", 400, "Choose at least 2 trials"),
        ("NCT07101562,NCT00000000", 400, "No trial is registered here as NCT00000000."),
        ("A1,A2,A3,A4,A5,A6,A7", 400, "7 trials were asked for; at most 6"),
        ("<b>x</b>,NCT07101562", 400, "No trial is registered here as &lt;b&gt;x&lt;/b&gt;."),
        ("NCT\x0007101562,NCT07101562", 400, "No trial is registered here as NCT\x0007101562."),
    ],
)
def test_a_bad_list_of_ids_says_what_is_wrong(client, seeds_loaded, ids, status, message):
    response, html = compare_page(client, ids)
    assert response.status_code == status
    assert message in html


def test_unknown_ids_are_reported_and_the_others_compared(client, seeds_loaded):
    response, html = compare_page(client, OSTEONECROSIS + ",NCT00000000")
    assert response.status_code == 200
    assert "No trial is registered here as NCT00000000." in html
    assert html.count('class="trial-head"') == 2


def test_repeated_ids_and_ids_in_another_case_redirect_to_one_url(client, seeds_loaded):
    response, _ = compare_page(client, "chictr2600126638, NCT07101562,nct07101562", lang="en")
    assert response.status_code == 302
    assert response["Location"] == "/compare/?ids=ChiCTR2600126638,NCT07101562&lang=en"
    response = client.get("/compare/", {"ids": ["NCT07101562", "NCT07101562,ChiCTR2600126638"]})
    assert response["Location"] == "/compare/?ids=NCT07101562,ChiCTR2600126638"


def test_differences_only_is_a_url_parameter(client, seeds_loaded):
    _, html = compare_page(client, OSTEONECROSIS, diff="1")
    assert 'class="compare only-differences"' in html
    assert "Differences only: on" in html
    _, html = compare_page(client, OSTEONECROSIS)
    assert 'class="compare"' in html
    assert 'href="?ids=ChiCTR2600126638%2CNCT07101562&amp;diff=1"' in html


def test_language_switch_shows_english_or_the_original(client, seeds_loaded):
    _, english = compare_page(client, OSTEONECROSIS, lang="en")
    assert "Harris hip joint function score" in english and "Harris髋关节功能评分" not in english
    _, original = compare_page(client, OSTEONECROSIS, lang="original")
    assert "Harris髋关节功能评分" in original and "Harris hip joint function score" not in original
    # A trial with no original-language text still shows its English.
    assert "Other situations deemed unsuitable for participation in this trial" in original


def test_registry_text_is_escaped_on_the_compare_page(client, seeds_loaded):
    Trial.objects.filter(registry_id="NCT07101562").update(
        public_title="<script>alert(1)</script>", sex_text="<i>", source_url="javascript:alert(1)"
    )
    _, html = compare_page(client, OSTEONECROSIS)
    assert "<script>alert(1)" not in html and "<i>" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_prints_landscape_with_its_address(client, seeds_loaded):
    html = client.get(f"/compare/?ids={OSTEONECROSIS}").content.decode()
    assert '<link rel="stylesheet" href="/static/css/compare-print.css" media="print">' in html
    assert '<p class="print-only">http://testserver/compare/?ids=ChiCTR2600126638,NCT07101562</p>' in html


def test_csv_holds_one_line_per_row_and_one_column_per_trial(client, seeds_loaded):
    response = client.get(reverse("trials:compare-csv"), {"ids": OSTEONECROSIS})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["section", "attribute", "differs", "ChiCTR2600126638", "NCT07101562"]
    by_label = {line[1]: line for line in lines}
    assert by_label["Sex"] == ["Population", "Sex", "no", "All (registry: 男女均可 / Both)", "All"]
    assert by_label["Enrolment"][2:] == ["yes", "36 (target)", "30 (target)"]
    only_differences = client.get(reverse("trials:compare-csv"), {"ids": OSTEONECROSIS, "diff": "1", "lang": "en"})
    lines = list(csv.reader(io.StringIO(only_differences.content.decode("utf-8-sig"))))
    assert all(line[2] == "yes" for line in lines[1:])
    assert not any("股骨头" in value for line in lines for value in line)


def test_csv_of_a_bad_list_is_a_plain_400(client, seeds_loaded):
    response = client.get(reverse("trials:compare-csv"), {"ids": "NCT07101562"})
    assert response.status_code == 400
    assert "Choose at least 2 trials" in response.content.decode()
