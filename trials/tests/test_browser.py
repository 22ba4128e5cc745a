"""The search page driven in a real browser (Debian's headless Chromium through Playwright).

Skipped where Playwright or /usr/bin/chromium is missing; .ci/run installs Chromium so CI runs these.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from conftest import SEEDS
from trials.search import backends, engine

CHROMIUM = Path("/usr/bin/chromium")

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

# Playwright's sync API runs an event loop in this thread, which trips Django's async-safety check on ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The live server's threads see only committed data, hence a transactional test, whose data a flush removes
# afterwards. On PostgreSQL that flush must TRUNCATE ... CASCADE: trials_searchdocument (raw SQL, unknown to Django)
# holds a foreign key to trials_trial. Naming the available apps (all of them) is what makes the flush cascade.
pytestmark = pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def seeded_server(live_server):
    call_command("ingest", str(SEEDS), verbosity=0)
    yield live_server
    # The flush after the test empties Django's tables only; the misspelling word list is raw SQL.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {backends.WORDS}")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def facet_link(page, heading, label):
    section = page.locator("section.facet").filter(has=page.get_by_role("heading", name=heading, exact=True))
    return section.get_by_role("link", name=label, exact=True)


def selected_values(page, heading):
    section = page.locator("section.facet").filter(has=page.get_by_role("heading", name=heading, exact=True))
    return [
        text.replace("✕", "").replace("Remove filter:", "").strip()
        for text in section.locator("li.selected a").all_inner_texts()
    ]


def result_ids(page):
    return page.locator("li.result strong").all_inner_texts()


def query_of(page):
    """The URL's non-blank parameters but the sort (the form submits its empty fields and its default sort too)."""
    query = parse_qs(urlparse(page.url).query)
    query.pop("sort", None)
    return query


def test_query_two_facets_and_next_page_keep_every_choice(seeded_server, page, monkeypatch):
    monkeypatch.setattr(engine, "PAGE_SIZE", 1)
    page.goto(seeded_server.url + "/")

    page.locator("#q").fill("china")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/?q=china*")
    assert page.locator("p.count strong").inner_text() == "4"

    with page.expect_navigation():
        facet_link(page, "Country", "China").click()
    assert query_of(page) == {"q": ["china"], "country": ["China"]}
    assert selected_values(page, "Country") == ["China"]

    with page.expect_navigation():
        facet_link(page, "Recruitment status", "Recruiting").click()
    assert query_of(page) == {"q": ["china"], "country": ["China"], "status": ["RECRUITING"]}
    assert page.locator("p.count strong").inner_text() == "2"
    first_page = result_ids(page)
    assert len(first_page) == 1

    with page.expect_navigation():
        page.locator("nav.pagination a[rel=next]").click()
    assert query_of(page) == {"q": ["china"], "country": ["China"], "status": ["RECRUITING"], "page": ["2"]}
    assert page.locator("#q").input_value() == "china"
    assert selected_values(page, "Country") == ["China"]
    assert selected_values(page, "Recruitment status") == ["Recruiting"]
    assert page.locator("nav.pagination").inner_text().count("Page 2 of 2") == 1
    second_page = result_ids(page)
    assert len(second_page) == 1
    assert sorted(first_page + second_page) == ["ChiCTR2600127123", "NCT06379243"]
    for status in page.locator("li.result .status").all_inner_texts():
        assert status == "Recruiting"

    # The "More filters" form carries the chosen facets along: Apply keeps them too.
    page.locator("#id_age").fill("40")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    query = query_of(page)
    assert query["q"] == ["china"] and query["country"] == ["China"] and query["status"] == ["RECRUITING"]
    assert query["age"] == ["40"] and "page" not in query
    assert selected_values(page, "Recruitment status") == ["Recruiting"]


@pytest.mark.parametrize("query", ["", "china", "股骨头"])
def test_narrow_viewport_has_no_horizontal_scroll(seeded_server, browser, query):
    context = browser.new_context(viewport={"width": 420, "height": 900})
    try:
        page = context.new_page()
        page.goto(seeded_server.url + "/?" + (f"q={query}&country=China" if query else ""))
        assert page.locator("li.result").count() >= 1
        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width
    finally:
        context.close()


def add_to_comparison(page, registry_id):
    button = page.locator(f'button.tray-toggle[value="{registry_id}"]')
    button.click()
    page.locator("#compare-tray li", has_text=registry_id).wait_for()
    assert button.inner_text() == "✓ In comparison: remove"


def test_choose_trials_from_results_and_a_trial_page_then_compare_their_differences(seeded_server, page):
    page.goto(seeded_server.url + "/?q=china")
    for registry_id in ("ChiCTR2600126638", "NCT07101562", "ChiCTR2600127123"):
        add_to_comparison(page, registry_id)
    assert page.locator("#compare-tray li").count() == 3

    page.goto(seeded_server.url + "/trials/NCT06731192/")
    add_to_comparison(page, "NCT06731192")
    with page.expect_navigation():
        page.get_by_role("link", name="Compare 4 trials").click()
    assert parse_qs(urlparse(page.url).query)["ids"] == ["ChiCTR2600126638,NCT07101562,ChiCTR2600127123,NCT06731192"]
    assert page.locator("th.trial-head").count() == 4

    same_rows = page.locator("table.compare tr.same")
    differing_rows = page.locator("table.compare tr.differs")
    assert same_rows.count() > 0 and differing_rows.count() > 0
    sex = page.locator("table.compare tr", has=page.locator("th", has_text="Sex"))
    assert sex.is_visible()

    page.locator("#diff-switch").click()
    assert page.locator("#diff-switch").inner_text() == "Differences only: on"
    assert "diff=1" in page.url
    assert not sex.is_visible()  # all four accept both sexes
    assert all(not row.is_visible() for row in same_rows.all())
    assert all(row.is_visible() for row in differing_rows.all()[:10])
    assert page.locator("table.compare tr", has=page.locator("th", has_text="Enrolment")).is_visible()

    page.reload()  # the address alone reproduces the view
    assert page.locator("#diff-switch").inner_text() == "Differences only: on"
    assert not sex.is_visible()


def test_compare_page_removes_a_trial_from_the_tray_and_fits_a_phone(seeded_server, browser):
    context = browser.new_context(viewport={"width": 420, "height": 900})
    try:
        page = context.new_page()
        page.goto(seeded_server.url + "/compare/?ids=ChiCTR2600126638,NCT07101562,NCT06731192")
        assert page.locator("th.trial-head").count() == 3
        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width  # the table scrolls inside its own box
        page.goto(seeded_server.url + "/trials/NCT07101562/")
        add_to_comparison(page, "NCT07101562")
        page.locator("#compare-tray button.remove").click()
        page.wait_for_function("document.querySelectorAll('#compare-tray li').length === 0")
        assert page.locator("button.tray-toggle").inner_text() == "Add to comparison"
    finally:
        context.close()
