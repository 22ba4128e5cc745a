import re

import pytest
from django.test import Client
from django.urls import reverse

from trials import tray
from trials.tests import trial_page_queries

SEED_IDS = ["ChiCTR2600126638", "NCT07101562", "NCT06731192", "NCT06379243", "ChiCTR2600127123"]


def change(client, action, registry_id="", next_url="/", **headers):
    data = {action: registry_id or "all", "next": next_url}
    return client.post(reverse("trials:tray"), data, headers=headers)


def test_the_tray_keeps_each_trial_once_and_six_at_most():
    session = {}
    assert tray.add(session, "NCT1", "One") == "NCT1 added to the comparison."
    assert tray.add(session, "NCT1", "One") == "NCT1 is already in the comparison."
    for number in range(2, 7):
        tray.add(session, f"NCT{number}", "x" * 200)
    assert tray.add(session, "NCT7", "Seven") == "The comparison holds 6 trials at most: remove one to add NCT7."
    assert tray.ids(session) == ["NCT1", "NCT2", "NCT3", "NCT4", "NCT5", "NCT6"]
    assert len(tray.entries(session)[1].title) == tray.TITLE_LENGTH
    tray.remove(session, "NCT3")
    assert tray.ids(session) == ["NCT1", "NCT2", "NCT4", "NCT5", "NCT6"]
    tray.clear(session)
    assert tray.entries(session) == []


@pytest.mark.django_db
def test_adding_from_a_page_goes_back_to_it_and_shows_the_tray(client, seeds_loaded):
    response = change(client, "add", "NCT07101562", "/?q=hip&page=1")
    assert response.status_code == 302
    assert response["Location"] == "/?q=hip&page=1"
    html = client.get("/trials/ChiCTR2600126638/").content.decode()
    assert 'id="compare-tray"' in html and "NCT07101562 added to the comparison." in html
    assert "Clinical Transformation of Bone Reconstruction" in html
    assert "Add at least one more trial to compare." in html
    change(client, "add", "chictr2600126638")  # any case: stored in the registry's spelling
    html = client.get("/").content.decode()
    assert 'href="/compare/?ids=NCT07101562,ChiCTR2600126638">Compare 2 trials</a>' in html
    assert html.count("✓ In comparison: remove") == 2


@pytest.mark.django_db
def test_removing_and_clearing(client, seeds_loaded):
    for registry_id in SEED_IDS[:3]:
        change(client, "add", registry_id)
    change(client, "remove", "NCT07101562")
    assert tray.ids(client.session) == ["ChiCTR2600126638", "NCT06731192"]
    change(client, "clear")
    assert tray.ids(client.session) == []


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_next_must_be_a_path_on_this_site(client, seeds_loaded, next_url):
    response = change(client, "add", "NCT07101562", next_url)
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_an_unknown_trial_or_action_is_refused_with_a_message(client, seeds_loaded):
    change(client, "add", "NCT00000000")
    change(client, "add", "NCT\x0007101562")
    assert tray.ids(client.session) == []
    assert "No trial is registered here as NCT00000000." in client.get("/").content.decode()
    assert change(client, "explode", "NCT07101562").status_code == 400
    assert client.get(reverse("trials:tray")).status_code == 405


@pytest.mark.django_db
def test_a_full_tray_says_so(client, seeds_loaded):
    session = client.session
    for number in range(6):
        tray.add(session, f"NCT0000000{number}", "Placeholder")
    session.save()
    change(client, "add", "NCT07101562")
    assert "at most" in client.get("/").content.decode()
    assert "NCT07101562" not in tray.ids(client.session)


@pytest.mark.django_db
def test_scripts_get_the_tray_html_instead_of_a_redirect(client, seeds_loaded):
    response = change(client, "add", "NCT07101562", "/trials/NCT07101562/", X_Tray="fragment")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<aside id="compare-tray"') and 'data-ids="NCT07101562"' in html
    assert 'name="next" value="/trials/NCT07101562/"' in html  # the page's path, not the tray's


@pytest.mark.django_db
def test_tray_forms_need_the_csrf_token(seeds_loaded):
    client = Client(enforce_csrf_checks=True)
    assert change(client, "add", "NCT07101562").status_code == 403
    html = client.get("/trials/NCT07101562/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = {"add": "NCT07101562", "next": "/", "csrfmiddlewaretoken": token}
    assert client.post(reverse("trials:tray"), data).status_code == 302


@pytest.mark.django_db
def test_search_results_hold_buttons_for_one_form_outside_the_search_form(client, seeds_loaded):
    html = client.get("/", {"q": "china"}).content.decode()
    search_form_end = html.index("</form>", html.index('<form class="search"'))
    buttons = re.findall(r'<button name="add" value="([^"]+)" class="secondary tray-toggle" form="tray-results">', html)
    assert len(buttons) == 4
    results_form = html.index('<form method="post" action="/compare/tray/" class="tray-form" id="tray-results">')
    assert results_form > search_form_end
    assert html.count('class="tray-form"') == 1  # the tray is empty: no form of its own


@pytest.mark.django_db
def test_the_tray_costs_pages_one_query_the_sessions(client, seeds_loaded, django_assert_num_queries):
    change(client, "add", "NCT07101562")
    change(client, "add", "NCT06731192")
    with django_assert_num_queries(1 + 6):  # the session, then the search page's six
        html = client.get("/", {"q": "alport"}).content.decode()
    assert "Compare 2 trials" in html
    with django_assert_num_queries(1 + trial_page_queries()):
        client.get("/trials/NCT07101562/")
