"""The same trial in two registries: identifiers naming the other registry's id link the two trials both ways."""

import dataclasses
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import SEEDS
from ingest.detect import parse
from ingest.records import IdentifierRecord
from ingest.writer import write_trial
from trials.models import Trial
from trials.registrations import OtherRegistration
from trials.tests import trial_page_queries

pytestmark = pytest.mark.django_db

STUDY = Path(__file__).resolve().parents[2] / "ingest" / "tests" / "data" / "NCT06715774.json"
PARTNER = "The registration number of the Partner Registry or other register:\n\n"
ALSO = re.compile(r"<dt>Also registered as</dt><dd>(.*?)</dd>", re.DOTALL)
RESULT = re.compile(r'<li class="result">.*?</li>\n(?=<li class="result">|</ol>)', re.DOTALL)


def chictr_with_partner(tmp_path, partner: str) -> Path:
    """The osteonecrosis ChiCTR page with its partner-registry field filled in."""
    page = (SEEDS / "ChiCTR2600126638.txt").read_text().replace(PARTNER, f"{PARTNER}{partner}\n\n")
    path = tmp_path / "ChiCTR2600126638.txt"
    path.write_text(page)
    return path


def study_with_secondary_id(tmp_path, secondary_id: str) -> Path:
    """A ClinicalTrials.gov study whose secondary ids name a trial of another registry."""
    study = json.loads(STUDY.read_text())
    ids = [{"id": secondary_id, "type": "REGISTRY", "domain": "Chinese Clinical Trial Registry"}]
    study["protocolSection"]["identificationModule"]["secondaryIdInfos"] = ids
    path = tmp_path / "NCT06715774.json"
    path.write_text(json.dumps(study))
    return path


def ingest(*paths):
    for path in paths:
        call_command("ingest", str(path), verbosity=0)


def also_registered_as(client, registry_id) -> str:
    html = client.get(reverse("trials:detail", args=[registry_id])).content.decode()
    match = ALSO.search(html)
    return match.group(1) if match else ""


def link(registry_id) -> str:
    return f'<a href="/trials/{registry_id}/">{registry_id}</a>'


@pytest.mark.parametrize("chictr_first", [True, False])
def test_a_chictr_partner_number_links_the_two_trials_both_ways(
    client, tmp_path, chictr_first, django_assert_num_queries
):
    chictr, nct = chictr_with_partner(tmp_path, "NCT07101562"), SEEDS / "NCT07101562.txt"
    ingest(*((chictr, nct) if chictr_first else (nct, chictr)))
    with django_assert_num_queries(trial_page_queries()):  # as without links
        on_chictr = also_registered_as(client, "ChiCTR2600126638")
    assert link("NCT07101562") in on_chictr and "ClinicalTrials.gov" in on_chictr
    assert "Clinical Transformation of Bone Reconstruction" in on_chictr  # the linked trial's title
    on_nct = also_registered_as(client, "NCT07101562")
    assert link("ChiCTR2600126638") in on_nct and "ChiCTR" in on_nct


@pytest.mark.parametrize("nct_first", [True, False])
def test_an_nct_secondary_id_links_the_two_trials_both_ways(client, tmp_path, nct_first):
    nct, chictr = study_with_secondary_id(tmp_path, "chictr2600127123"), SEEDS / "ChiCTR2600127123.txt"
    ingest(*((nct, chictr) if nct_first else (chictr, nct)))
    assert link("ChiCTR2600127123") in also_registered_as(client, "NCT06715774")
    assert link("NCT06715774") in also_registered_as(client, "ChiCTR2600127123")


def test_an_id_not_stored_here_shows_its_registry_and_a_link_to_the_registry_page(client, tmp_path):
    ingest(chictr_with_partner(tmp_path, "ISRCTN12345678, ChiCTR2100050545"))
    html = also_registered_as(client, "ChiCTR2600126638")
    assert "ISRCTN12345678 <span" in html and "/trials/ISRCTN12345678/" not in html
    assert '<a href="https://www.isrctn.com/ISRCTN12345678" rel="noopener external">view on ISRCTN</a>' in html
    assert "https://www.chictr.org.cn/searchprojEN.html?regno=ChiCTR2100050545" in html
    assert html.count("not stored here") == 2


def test_a_trial_with_no_other_registration_shows_none(client):
    ingest(SEEDS / "NCT07101562.txt")
    assert also_registered_as(client, "NCT07101562") == ""


def test_registry_pages_are_web_addresses_only():
    assert OtherRegistration("ctri", "CTRI/2020/01/012345").registry_url == (
        "https://trialsearch.who.int/Trial2.aspx?TrialID=CTRI/2020/01/012345"
    )
    assert OtherRegistration("ctgov", "NCT07101562").registry_url == "https://clinicaltrials.gov/study/NCT07101562"
    assert OtherRegistration("other", "javascript:alert(1)").registry_url == ""
    assert "<" not in OtherRegistration("isrctn", 'ISRCTN1"><script>').registry_url


def test_registry_text_in_links_is_escaped(client, seed_bytes):
    [nct] = parse(seed_bytes("NCT07101562"))
    [chictr] = parse(seed_bytes("ChiCTR2600126638"))
    write_trial(dataclasses.replace(nct, public_title="<b>bold</b> title"))
    partner = IdentifierRecord(value="ISRCTN1<x>", type="registry", issuer="<i>")
    write_trial(
        dataclasses.replace(chictr, identifiers=(IdentifierRecord(value="NCT07101562", type="registry"), partner))
    )
    html = also_registered_as(client, "ChiCTR2600126638")
    assert "&lt;b&gt;bold&lt;/b&gt; title" in html and "ISRCTN1&lt;x&gt;" in html and "&lt;i&gt;" in html
    assert not re.search("<(b|i|x)>", html)


def test_search_results_mark_the_trials_registered_elsewhere(client, tmp_path, django_assert_num_queries):
    ingest(SEEDS, chictr_with_partner(tmp_path, "NCT07101562"))
    with django_assert_num_queries(5):  # as without links: see test_search
        html = client.get("/").content.decode()
    results = {re.search(r"<strong>([^<]+)</strong>", item).group(1): item for item in RESULT.findall(html)}
    assert {"ChiCTR2600126638", "NCT07101562"} <= set(results)
    assert "Also registered as" in results["ChiCTR2600126638"] and link("NCT07101562") in results["ChiCTR2600126638"]
    assert "Also registered as" in results["NCT07101562"] and link("ChiCTR2600126638") in results["NCT07101562"]
    assert all(
        "Also registered as" not in item
        for key, item in results.items()
        if key not in {"ChiCTR2600126638", "NCT07101562"}
    )


def test_other_registrations_of_a_page_of_trials_take_one_query(tmp_path, django_assert_num_queries):
    ingest(
        SEEDS,
        chictr_with_partner(tmp_path, "NCT07101562; ISRCTN12345678"),
        study_with_secondary_id(tmp_path, "ChiCTR2600127123"),
    )
    trials = list(Trial.objects.all())
    with django_assert_num_queries(1):
        found = Trial.objects.registered_elsewhere(trials)
    by_id = {trial.registry_id: trial.pk for trial in trials}
    named = {
        registry_id: [(link.registry, link.registry_id, link.trial and link.trial.registry_id) for link in found[pk]]
        for registry_id, pk in by_id.items()
    }
    assert named == {
        "ChiCTR2600126638": [("ctgov", "NCT07101562", "NCT07101562"), ("isrctn", "ISRCTN12345678", None)],
        "NCT07101562": [("chictr", "ChiCTR2600126638", "ChiCTR2600126638")],
        "NCT06715774": [("chictr", "ChiCTR2600127123", "ChiCTR2600127123")],
        "ChiCTR2600127123": [("ctgov", "NCT06715774", "NCT06715774")],
        "NCT06379243": [],
        "NCT06731192": [],
    }
    with django_assert_num_queries(0):
        assert Trial.objects.registered_elsewhere([]) == {}


def test_the_identifiers_section_names_the_other_registry(client, tmp_path):
    ingest(chictr_with_partner(tmp_path, "NCT07101562"))
    html = client.get(reverse("trials:detail", args=["ChiCTR2600126638"])).content.decode()
    assert '<li>NCT07101562 <span class="muted">· ClinicalTrials.gov registration</span></li>' in html
