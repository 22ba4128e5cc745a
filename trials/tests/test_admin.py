import pytest
from django.urls import reverse

from ingest.models import IngestRun
from trials.models import Trial

pytestmark = pytest.mark.django_db


def test_admin_needs_a_login(client):
    response = client.get(reverse("admin:trials_trial_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_lists_filters_searches_and_edits_trials(admin_client, seeds_loaded):
    changelist = admin_client.get(
        reverse("admin:trials_trial_changelist"), {"q": "osteonecrosis", "registry__exact": "chictr"}
    )
    assert changelist.status_code == 200
    assert "ChiCTR2600126638" in changelist.content.decode()
    trial = Trial.objects.get(registry_id="ChiCTR2600126638")
    change = admin_client.get(reverse("admin:trials_trial_change", args=[trial.pk]))
    assert change.status_code == 200
    html = change.content.decode()
    for inline in ("Arms", "Interventions", "Outcomes", "Eligibility criteria", "Sites", "Identifiers"):
        assert inline in html


@pytest.mark.parametrize(
    "model",
    [
        "condition",
        "keyword",
        "arm",
        "intervention",
        "outcome",
        "eligibilitycriterion",
        "site",
        "sponsor",
        "contact",
        "identifier",
        "biospecimen",
        "sourcerecord",
    ],
)
def test_every_trial_model_has_an_admin_page(admin_client, seeds_loaded, model):
    assert admin_client.get(reverse(f"admin:trials_{model}_changelist")).status_code == 200


def test_ingest_runs_show_their_failures(admin_client, seeds_loaded):
    run = IngestRun.objects.get()
    run.failures.create(source="bad.txt", reason="empty file")
    html = admin_client.get(reverse("admin:ingest_ingestrun_change", args=[run.pk])).content.decode()
    assert "bad.txt" in html and "empty file" in html


def test_a_version_shows_its_raw_and_normalised_record(admin_client, seeds_loaded):
    source = Trial.objects.get(registry_id="NCT06731192").sources.get()
    html = admin_client.get(reverse("admin:trials_sourcerecord_change", args=[source.pk])).content.decode()
    assert "Raw JSON" in html
    assert "normalised record (snapshot)" in html.lower() and "&quot;registry_id&quot;: &quot;NCT06731192&quot;" in html
