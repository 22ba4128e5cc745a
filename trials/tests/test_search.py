import csv
import dataclasses
import io
import json
import re
from collections import Counter
from threading import current_thread

import pytest
from django.conf import settings
from django.db import connection, transaction

from ingest.detect import parse
from ingest.records import ConditionRecord, IdentifierRecord, SponsorRecord
from ingest.writer import WriteResult, write_trial, write_trials
from trials.filters import TrialFilter
from trials.models import SynonymGroup, Trial
from trials.search import engine
from trials.search.indexing import SAMPLES, reindex

pytestmark = pytest.mark.django_db

RESULT_ID = re.compile(r'<li class="result">\s*<p class="meta"><a href="[^"]+"><strong>([^<]+)</strong>')
FACET_LINK = re.compile(
    r'<li>\s*<a href="(?P<href>\?[^"]*)">\s*(?P<label>[^<]*)</a>\s*<span class="n"[^>]*>(?P<n>[^<]+)</span>'
)
TOTAL = re.compile(r'<p class="count"[^>]*><strong>([^<]+)</strong>')


def found(client, **params) -> list[str]:
    return RESULT_ID.findall(client.get("/", params).content.decode())


def total(html: str) -> str:
    return TOTAL.search(html).group(1)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("osteonecrosis", "ChiCTR2600126638"),
        ("femoral head necrosis", "ChiCTR2600126638"),
        ("股骨头", "ChiCTR2600126638"),
        ("肝衰竭", "ChiCTR2600127123"),
        ("衰竭", "ChiCTR2600127123"),
        ("Alport", "NCT06731192"),
    ],
)
def test_english_and_chinese_words_find_the_trials_that_contain_them(client, seeds_loaded, query, expected):
    assert expected in found(client, q=query)


def test_chinese_finds_only_trials_containing_that_exact_run_of_characters(client, seeds_loaded):
    assert found(client, q="股骨头") == ["ChiCTR2600126638"]
    assert found(client, q="头股骨") == []


def test_a_search_matching_nothing_says_so_and_still_counts_the_other_values_of_its_filter(client, seeds_loaded):
    html = client.get("/", {"q": "osteonecrosis", "status": "COMPLETED"}).content.decode()
    assert total(html) == "0"
    assert "most relevant first" not in html
    assert "No registered trial matches <strong>osteonecrosis</strong> with these filters" in html
    # What choosing the trial's own status instead would give.
    assert re.search(r"Not yet recruiting</a>\s*<span class=\"n\"[^>]*>1</span>", html)


def test_an_excluded_word_removes_the_trials_that_contain_it(client, seeds_loaded):
    assert "NCT06731192" in found(client, q="stem cells")
    results = found(client, q="stem cells -alport")
    assert "NCT06731192" not in results
    assert "ChiCTR2600126638" in results


def test_a_phrase_must_match_in_order_and_or_widens(client, seeds_loaded):
    # The trial's MeSH term is "Nephritis, Hereditary".
    assert found(client, q='"nephritis hereditary"') == ["NCT06731192"]
    assert found(client, q='"hereditary nephritis"') == []
    assert set(found(client, q="alport OR 肝衰竭")) == {"NCT06731192", "ChiCTR2600127123"}


def test_a_typed_registry_id_in_any_case_comes_first(client, seeds_loaded):
    assert found(client, q="NCT06379243")[0] == "NCT06379243"
    assert found(client, q="nct06379243")[0] == "NCT06379243"
    assert found(client, q="chictr2600127123")[0] == "ChiCTR2600127123"


def test_a_synonym_group_finds_trials_worded_differently(client, seeds_loaded):
    # The seeded group says osteonecrosis of the femoral head = avascular necrosis of the femur head.
    assert set(found(client, q="osteonecrosis of the femoral head")) >= {"ChiCTR2600126638", "NCT07101562"}
    SynonymGroup.objects.all().delete()
    assert "NCT07101562" not in found(client, q="osteonecrosis of the femoral head")


def test_filters_combine_status_country_and_an_age_the_trial_accepts(client, seeds_loaded):
    results = found(client, status="RECRUITING", country="China", age="85")
    assert "NCT06379243" in results  # ages 50-90
    assert "ChiCTR2600127123" not in results  # ages 18-80
    assert found(client, status="RECRUITING", country="China", age="40") == ["ChiCTR2600127123"]


def test_a_misspelt_word_is_corrected_and_said_so(client, seeds_loaded):
    html = client.get("/", {"q": "alpot syndrome"}).content.decode()
    assert "showing results for <strong>alport syndrome</strong>" in html
    assert RESULT_ID.findall(html) == ["NCT06731192"]


@pytest.mark.parametrize("params", [{}, {"q": "stem"}, {"status": "RECRUITING"}, {"q": "china", "phase": "NA"}])
def test_every_facet_count_is_the_number_of_results_its_link_gives(client, seeds_loaded, params):
    html = client.get("/", params).content.decode()
    links = FACET_LINK.findall(html)
    assert len(links) > 10
    for href, label, count in links:
        assert not count.startswith("~")
        assert total(client.get("/" + href.replace("&amp;", "&")).content.decode()) == count, (href, label)


def test_large_match_sets_show_estimates_marked_as_such(client, seeds_loaded, monkeypatch):
    monkeypatch.setattr(engine, "EXACT_LIMIT", 2)
    html = client.get("/", {"q": "china"}).content.decode()
    assert total(html).startswith("~")
    assert "(estimated)" in html
    assert "too many to rank by relevance" in html
    assert all(count.startswith("~") for _, _, count in FACET_LINK.findall(html))


@pytest.mark.parametrize("words", ["", "china"])
@pytest.mark.parametrize("bound", [1, 2, 4, 128])
def test_estimated_facet_counts_scale_up_the_slice_of_trials_they_read(seeds_loaded, words, bound):
    trials = list(Trial.objects.order_by("registry_id"))
    for trial, sample in zip(trials, [0, 1, 3, 5, 200], strict=True):
        Trial.objects.filter(pk=trial.pk).update(sample=sample)
        trial.sample = sample
    reindex(trials)
    search = engine.Search(words, TrialFilter({}, queryset=Trial.objects.all()))
    measure = engine._Measure(engine.Total(100_000, exact=False), sample_below=bound)
    counts = search.facet_counts(["registry"], measure)["registry"]
    matching = {trial.pk for trial in search.matches()}
    read = Counter(trial.registry for trial in trials if trial.sample < bound and trial.pk in matching)
    assert {value: count.value for value, count in counts.items()} == {
        registry: n * SAMPLES // bound for registry, n in read.items()
    }
    assert read  # the slice is not empty, so the comparison says something


@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))  # flush cascades
@pytest.mark.parametrize("params", [{"q": "china", "status": "RECRUITING", "country": "China"}, {"q": ""}])
def test_what_is_read_on_other_connections_is_what_the_page_s_own_reads(seeds_loaded, seed_bytes, monkeypatch, params):
    # Committed trials (not a test's transaction): on PostgreSQL facet counts and other registrations are then
    # read on threads of their own while the page is read.
    [chictr] = parse(seed_bytes("ChiCTR2600126638"))
    write_trial(dataclasses.replace(chictr, identifiers=(IdentifierRecord(value="NCT07101562", type="registry"),)))
    threads = []
    facet_counts = engine.Search.facet_counts
    monkeypatch.setattr(
        engine.Search,
        "facet_counts",
        lambda self, *args, **kwargs: threads.append(current_thread()) or facet_counts(self, *args, **kwargs),
    )
    params = dict(params)
    search = engine.Search(params.pop("q"), TrialFilter(params, queryset=Trial.objects.all()))
    results = search.results(1)
    elsewhere = {thread is not current_thread() for thread in threads}
    assert elsewhere == {connection.vendor == "postgresql"}
    with transaction.atomic():  # everything read on this thread and connection
        assert results.facets == search.facets(search.measure(), search.chosen_counts())()
    assert any(value.count.value for facet in results.facets for value in facet.values)
    registered = Trial.objects.registered_elsewhere(results.page.object_list)
    assert [trial.registrations for trial in results.page.object_list] == list(registered.values())
    if not params:  # every trial listed, the two linked ones among them
        assert any(registered.values())


def test_the_search_page_runs_the_same_queries_for_one_result_or_many(client, seeds_loaded, django_assert_num_queries):
    # synonyms, capped count, facet counts, page, conditions and countries, other registrations
    with django_assert_num_queries(6):
        assert len(found(client, q="alport")) == 1
    with django_assert_num_queries(6):
        assert len(found(client, q="china")) == 4
    with django_assert_num_queries(5):  # no words: no synonyms to read
        assert len(found(client)) == 5
    # A chosen facet counts its other values without itself: one more count and one more facet query.
    with django_assert_num_queries(8):
        client.get("/", {"q": "china", "status": "RECRUITING"})


def test_invalid_filter_values_are_reported_not_a_server_error(client, seeds_loaded):
    response = client.get("/", {"status": "BOGUS", "age": "old", "start_date_after": "2024-13-45"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some filters were ignored" in html
    assert "BOGUS is not one of the available choices" in html
    assert "Enter a number" in html
    assert total(html) == "5"


def test_results_sort_by_enrolment_and_paging_keeps_every_filter(client, seeds_loaded, monkeypatch):
    enrolments = dict(Trial.objects.values_list("registry_id", "enrollment"))
    ordered = found(client, sort="enrollment")
    assert [enrolments[i] for i in ordered] == sorted(enrolments.values(), reverse=True)
    monkeypatch.setattr(engine, "PAGE_SIZE", 2)
    html = client.get("/", {"q": "china", "country": "China", "sort": "start"}).content.decode()
    next_link = re.search(r'<a rel="next" href="\?([^"]+)"', html).group(1).replace("&amp;", "&")
    assert sorted(next_link.split("&")) == ["country=China", "page=2", "q=china", "sort=start"]


@pytest.mark.parametrize("sort", list(engine.SORTS))
@pytest.mark.parametrize("q", ["", "china", "stem cells"])
def test_pages_follow_on_from_each_other_in_every_order(client, seeds_loaded, monkeypatch, sort, q):
    whole = found(client, q=q, sort=sort)
    assert len(whole) >= 2
    monkeypatch.setattr(engine, "PAGE_SIZE", 2)
    pages = range(1, (len(whole) + 1) // 2 + 1)
    assert [registry_id for page in pages for registry_id in found(client, q=q, sort=sort, page=page)] == whole


def test_results_show_titles_in_both_languages_and_a_marked_snippet(client, seeds_loaded):
    html = client.get("/", {"q": "肝衰竭"}).content.decode()
    assert "慢加急性肝衰竭" in html or "肝衰竭" in html
    assert "<mark>肝衰竭</mark>" in html
    assert 'lang="zh"' in html


def test_registry_text_is_escaped_in_results_and_snippets(client, seed_bytes):
    [record] = parse(seed_bytes("NCT06731192"))
    write_trial(dataclasses.replace(record, public_title="<script>alert(1)</script>", brief_summary="<b>x</b> alert"))
    html = client.get("/", {"q": "alert"}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt; <mark>alert</mark>" in html


def test_registry_text_is_escaped_in_conditions_and_facet_values(client, seed_bytes):
    [record] = parse(seed_bytes("NCT06731192"))
    markup = dataclasses.replace(
        record,
        conditions=(ConditionRecord(name="<i>Alport</i>"),),
        sponsors=(SponsorRecord(name='<img src=x onerror="1">', role="lead"),),
    )
    write_trial(markup)
    html = client.get("/", {"q": "alport"}).content.decode()
    assert "<i>Alport</i>" not in html and "&lt;i&gt;Alport&lt;/i&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;1&quot;&gt;" in html


def test_exports_hold_the_filtered_results_in_csv_and_json(client, seeds_loaded):
    response = client.get("/export.csv", {"q": "china", "status": "RECRUITING"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(row["registry_id"] for row in rows) == ["ChiCTR2600127123", "NCT06379243"]
    assert response["Content-Disposition"] == 'attachment; filename="trials.csv"'
    data = json.loads(b"".join(client.get("/export.json", {"q": "肝衰竭"}).streaming_content))
    assert [item["registry_id"] for item in data] == ["ChiCTR2600127123"]
    assert data[0]["public_title_original"]


def test_the_index_follows_a_changed_record_and_an_edit(client, seed_bytes):
    [record] = parse(seed_bytes("NCT06731192"))
    write_trial(record)
    write_trial(dataclasses.replace(record, source=record.source + b" ", public_title="Zebrafish study"))
    assert found(client, q="zebrafish") == ["NCT06731192"]
    trial = Trial.objects.get()
    trial.public_title = "Quokka study"
    trial.save()
    reindex([trial])
    assert found(client, q="zebrafish") == []
    assert found(client, q="quokka") == ["NCT06731192"]


def test_a_batch_writes_new_trials_together_and_is_unchanged_the_second_time(client, seed_bytes):
    records = [record for name in ("NCT06731192", "ChiCTR2600126638") for record in parse(seed_bytes(name))]
    assert write_trials(records) == [WriteResult.CREATED, WriteResult.CREATED]
    assert write_trials(records) == [WriteResult.UNCHANGED, WriteResult.UNCHANGED]
    assert found(client, q="股骨头") == ["ChiCTR2600126638"]


def test_a_broad_match_walked_in_sort_order_lists_the_same_trials(
    client, seeds_loaded, monkeypatch, django_assert_num_queries
):
    expected = found(client, q="china", sort="start")
    monkeypatch.setattr(engine, "EXACT_LIMIT", 1)
    monkeypatch.setattr(engine, "DENSE", 0)
    # With so few trials the estimated total (and so the page) may be shorter; what shows is in the same order.
    with django_assert_num_queries(6):
        walked = found(client, q="china", sort="start")
    assert len(walked) >= 2
    assert walked == expected[: len(walked)]
    walked = found(client, q="china -alport", sort="start")
    assert walked == [i for i in expected if i != "NCT06731192"][: len(walked)]


def test_exported_registry_text_never_runs_as_a_spreadsheet_formula(client, seed_bytes):
    [record] = parse(seed_bytes("NCT06731192"))
    write_trial(dataclasses.replace(record, public_title='=HYPERLINK("http://evil.example","x")'))
    response = client.get("/export.csv", {"q": "alport"})
    [row] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    assert row["public_title"] == '\'=HYPERLINK("http://evil.example","x")'
