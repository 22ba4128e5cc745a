import pytest
from django.urls import reverse

from trials.documents import trial_document
from trials.models import Trial
from trials.tests import children_queries, trial_page_queries

pytestmark = pytest.mark.django_db


def trial_json(client, registry_id):
    response = client.get(reverse("trials:json", args=[registry_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


CONTRACT_KEYS = {
    "registry",
    "registry_id",
    "public_title",
    "public_title_original",
    "status",
    "study_type",
    "phases",
    "enrollment",
    "registration_timing",
    "conditions",
    "arms",
    "interventions",
    "outcomes",
    "eligibility",
    "ethics",
    "sponsors",
    "sites",
    "identifiers",
}


def test_json_contract_for_the_chictr_osteonecrosis_trial(client, seeds_loaded):
    data = trial_json(client, "ChiCTR2600126638")
    assert set(data) >= CONTRACT_KEYS
    assert data["registry"] == "chictr"
    assert data["status"] == "NOT_YET_RECRUITING"
    assert data["study_type"] == "INTERVENTIONAL"
    assert data["registration_timing"] == "prospective"
    assert data["public_title_original"].startswith("股骨头坏死")
    assert data["arms"] == [
        {
            "label": "Single arm treatment group",
            "label_original": "单臂治疗组",
            "type": None,
            "description": None,
            "planned_size": 36,
        }
    ]
    assert data["enrollment"] == 36
    assert [o["kind"] for o in data["outcomes"]].count("primary") == 2
    assert [o["kind"] for o in data["outcomes"]].count("secondary") == 3
    eligibility = data["eligibility"]
    assert eligibility["inclusion"] == []
    assert len(eligibility["exclusion"]) == 7
    assert (eligibility["min_age_years"], eligibility["max_age_years"], eligibility["sex"]) == (18, 60, "ALL")
    assert data["ethics"]["approved"] is True
    assert data["ethics"]["approval_number"] == "SH9H-2026-T275-1"
    assert data["ethics"]["approval_date"] == "2026-05-21"
    assert data["phases"] == ["NA"]


def test_json_contract_for_the_other_seeds(client, seeds_loaded):
    liver = trial_json(client, "ChiCTR2600127123")
    assert (liver["study_type"], liver["registration_timing"], liver["enrollment"]) == (
        "OBSERVATIONAL",
        "retrospective",
        150,
    )
    assert [arm["planned_size"] for arm in liver["arms"]] == [75, 75]
    assert len(liver["eligibility"]["exclusion"]) == 8

    hip = trial_json(client, "NCT07101562")
    assert len(hip["eligibility"]["inclusion"]) == 7
    assert len(hip["eligibility"]["exclusion"]) == 28
    assert (hip["eligibility"]["min_age_years"], hip["eligibility"]["max_age_years"]) == (20, 65)

    spine = trial_json(client, "NCT06379243")
    assert len(spine["sponsors"]) == 4
    assert [sponsor["role"] for sponsor in spine["sponsors"]].count("lead") == 1

    alport = trial_json(client, "NCT06731192")
    assert alport["phases"] == ["PHASE2", "PHASE3"]
    assert [arm["type"] for arm in alport["arms"]] == ["EXPERIMENTAL", "PLACEBO_COMPARATOR"]
    assert (alport["eligibility"]["min_age_years"], alport["eligibility"]["max_age_years"]) == (3, 12)
    assert alport["interventions"][0]["arm_labels"] == ["MSC Theatment"]
    assert alport["dates"]["start"] == "2025-01-01"


@pytest.mark.parametrize(
    "registry_id", ["ChiCTR2600126638", "ChiCTR2600127123", "NCT07101562", "NCT06379243", "NCT06731192"]
)
def test_trial_page_shows_every_section(client, seeds_loaded, registry_id):
    response = client.get(reverse("trials:detail", args=[registry_id]))
    assert response.status_code == 200
    for section in (
        "Identity and titles",
        "Status and dates",
        "Design",
        "Conditions and keywords",
        "Arms and interventions",
        "Outcomes",
        "Eligibility",
        "Sponsors and contacts",
        "Ethics and oversight",
        "Data sharing",
        "Sites",
        "Identifiers",
        "Samples",
        "History",
        "Source",
    ):
        assert f"{section}</h2>" in response.content.decode()


def test_trial_page_shows_both_languages_or_one(client, seeds_loaded):
    url = reverse("trials:detail", args=["ChiCTR2600126638"])
    both = client.get(url).content.decode()
    assert "Harris hip joint function score" in both and "Harris髋关节功能评分" in both
    english = client.get(url, {"lang": "en"}).content.decode()
    assert "Harris hip joint function score" in english and "Harris髋关节功能评分" not in english
    original = client.get(url, {"lang": "original"}).content.decode()
    assert "Harris髋关节功能评分" in original and "Harris hip joint function score" not in original


def test_trial_page_lists_criteria_in_order(client, seeds_loaded):
    response = client.get(reverse("trials:detail", args=["NCT06379243"]))
    html = response.content.decode()
    assert html.index("Inclusion criteria") < html.index("Exclusion criteria")
    assert '<li><span lang="en">History of severe scoliosis, vertebroplasty, or internal spinal fixation</span>' in html


def test_a_trial_s_children_are_read_without_the_trial_table(client, seeds_loaded, django_assert_num_queries):
    with django_assert_num_queries(1 + children_queries()) as queries:
        client.get(reverse("trials:json", args=["NCT06379243"]))
    children = [query["sql"] for query in queries.captured_queries[1:]]
    assert children and not [sql for sql in children if "JOIN" in sql and '"trials_trial"' in sql]


def test_detail_view_runs_a_fixed_number_of_queries(client, seeds_loaded, django_assert_num_queries):
    # The JSON has neither versions nor other registrations.
    for registry_id in ("NCT07101562", "ChiCTR2600126638"):
        with django_assert_num_queries(trial_page_queries()):
            assert client.get(reverse("trials:detail", args=[registry_id])).status_code == 200
        with django_assert_num_queries(1 + children_queries()):
            assert client.get(reverse("trials:json", args=[registry_id])).status_code == 200


def test_registry_ids_are_found_in_any_case(client, seeds_loaded):
    response = client.get("/trials/nct06731192/")
    assert response.status_code == 301
    assert response["Location"] == "/trials/NCT06731192/"


def test_unknown_trial_is_404(client, seeds_loaded):
    assert client.get("/trials/NCT00000000/").status_code == 404
    assert client.get("/trials/NCT00000000.json").status_code == 404


def test_registry_text_is_escaped(client, seeds_loaded):
    Trial.objects.filter(registry_id="NCT06731192").update(public_title='<script>alert("x")</script>')
    html = client.get("/trials/NCT06731192/").content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html


def test_raw_source_is_served_as_plain_text(client, seeds_loaded):
    trial = Trial.objects.get(registry_id="NCT06731192")
    source = trial.sources.get()
    response = client.get(reverse("trials:source", args=[trial.registry_id, source.pk]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Raw JSON" in response.content.decode()


def test_a_full_record_read_at_once_is_the_one_prefetching_reads(
    seeds_loaded, django_assert_num_queries, django_assert_max_num_queries
):
    for pk in Trial.objects.values_list("pk", flat=True):
        trial = Trial.objects.get(pk=pk)
        # + the versions; fewer elsewhere for a trial without interventions (no arms of them to read)
        with django_assert_max_num_queries(children_queries() + 1):
            [read] = Trial.objects.read_full_record([trial], history=True)
        [prefetched] = Trial.objects.with_full_record().with_history().filter(pk=pk)
        with django_assert_num_queries(0):  # every child read, none left for a lazy query
            assert trial_document(read) == trial_document(prefetched)
            assert list(read.sources.all()) == list(prefetched.sources.all())
            assert [list(i.arms.all()) for i in read.interventions.all()] == [
                list(i.arms.all()) for i in prefetched.interventions.all()
            ]
            assert all(condition.trial is read for condition in read.conditions.all())
