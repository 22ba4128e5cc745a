"""One search: the box, the filters, an exact or estimated count, facet counts, ranking and one page.

At registry scale a broad word matches a third of all trials, and counting or ranking all of them takes
seconds. So a match set larger than EXACT_LIMIT is never counted or ranked exhaustively: its total and its
facet counts are estimated from a stable sample of trials (Trial.sample) and shown as estimates, and its
trials are listed by a cheap key (last update) instead of by relevance.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from ..alongside import alongside
from ..filters import FacetFilter, TrialFilter
from ..models import SynonymGroup, Trial, TrialFacet
from .backends import TABLE, search_backend
from .indexing import SAMPLES
from .query import ParsedQuery, expand_synonyms, parse_query
from .snippets import SNIPPET_FIELDS, snippet

EXACT_LIMIT = 1000
SLICE = 2  # trials with sample < SLICE (1 in 128) estimate how many trials a broad search matches
SMALL_SLICE = 4 * EXACT_LIMIT * SLICE // 256  # at most this many in the slice: the matches may be few
TARGET_SAMPLED = 1000  # estimated facet counts are read from about this many sampled trials
MAX_RESULTS = 1000  # how deep paging goes; past that, a search should be narrowed
PAGE_SIZE = 25
FACET_LENGTH = 10  # values shown per facet, most frequent first; chosen values always show
DENSE = 0.02  # a match set this large a share of all trials is listed by walking the sort order

SORTS = {
    "relevance": ("Relevance", None),
    "updated": ("Last updated", "last_update_date"),
    "start": ("Start date", "start_date"),
    "registered": ("Registration date", "registration_date"),
    "enrollment": ("Enrolment", "enrollment"),
}


@dataclass(frozen=True)
class Total:
    value: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"~{_round(self.value):,}"


@dataclass
class FacetValue:
    value: str
    label: str
    count: Total
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]
    hidden: int = 0  # values not shown, beyond FACET_LENGTH


@dataclass
class SearchResults:
    query: ParsedQuery
    sort: str
    total: Total
    page: Page
    facets: list[Facet]
    ranked: bool
    corrected_from: str = ""

    @property
    def sort_label(self) -> str:
        return SORTS[self.sort][0]


def _round(value: int) -> int:
    """Two significant figures: an estimate should not look more precise than it is."""
    if value < 100:
        return value
    magnitude = 10 ** (int(math.log10(value)) - 1)
    return round(value / magnitude) * magnitude


@dataclass(frozen=True)
class _Measure:
    total: Total
    sample_below: int | None  # None: count every match; else count trials with sample below this and scale
    catalogue: int = 0  # about how many trials there are in all


class Search:
    def __init__(self, text: str, filters: TrialFilter, sort: str = "relevance"):
        self.filters = filters
        self.sort = sort if sort in SORTS else "relevance"
        self.query = parse_query(text)
        if self.query:
            groups = [group.term_list for group in SynonymGroup.objects.only("terms")]
            self.query = expand_synonyms(self.query, groups)
        self.backend = search_backend()

    @cached_property
    def _filtered(self) -> bool:
        return bool(self.query or self.filters.active())

    def matches(self, *, without: str | None = None, sample_below: int | None = None, probe: bool = False) -> QuerySet:
        """The matching trials; with `probe`, the words are checked trial by trial instead of through the index."""
        trials = Trial.objects.order_by()  # counts and subqueries need no order; listing orders explicitly
        if self.backend.holds_filters:
            where, params = self._where(without=without, sample_below=sample_below, probe=probe)
            if not where:
                return trials
            if probe:
                # The trial's own columns filtered on its row too: walking a sort index, a start date range then
                # bounds the walk instead of being checked trial by trial.
                trials = self.filters.apply(trials, without=without, columns_only=True)
                found = f'EXISTS (SELECT 1 FROM {TABLE} WHERE trial_id = "trials_trial"."id" AND {where})'
                return trials.alias(found=RawSQL(found, params, output_field=BooleanField())).filter(found=True)
            return trials.filter(id__in=RawSQL(*self.backend.ids(where, params)))
        if sample_below is not None:
            trials = trials.filter(sample__lt=sample_below)
        trials = self.filters.apply(trials, without=without, sample_below=sample_below)
        if self.query.included and probe:
            return trials.alias(words_match=self.backend.trial_matches(self.query)).filter(words_match=True)
        if self.query.included:
            return trials.filter(id__in=self.backend.matching_ids(self.query))
        if self.query.excluded:
            # Only exclusions ("-alport"): every trial but those matching any of them.
            return trials.exclude(id__in=self.backend.matching_ids(self.query.exclusions()))
        return trials

    def _where(self, *, without: str | None = None, sample_below: int | None = None, probe: bool = False):
        narrowing = self.filters.narrowing(without=without)
        return self.backend.where(self.query, narrowing, sample_below=sample_below, probe=probe)

    def _ids_sql(self, *, without: str | None = None, sample_below: int | None = None) -> tuple[str, list]:
        """The ids of the matching trials as SQL; on PostgreSQL read from the search table alone."""
        if self.backend.holds_filters:
            return self.backend.ids(*self._where(without=without, sample_below=sample_below))
        return self.matches(without=without, sample_below=sample_below).values("id").query.sql_with_params()

    def measure(self, *, without: str | None = None) -> _Measure:
        """Count the matches exactly when they are few, else estimate them from the sampled slice.

        One statement: the slice is counted first (cheap through the partial indexes), and the exact count runs
        only when the slice says the matches are few. Counting a broad word's matches, even capped, reads its
        whole posting list, which is what this avoids. The exact count has no LIMIT on purpose: a LIMIT invites
        the planner to scan in index order hoping to stop early, which never happens when two broad conditions
        have few trials in common.
        """
        sampled_sql, sampled_params = self._ids_sql(without=without, sample_below=SLICE)
        every_sql, every_params = self._ids_sql(without=without)
        # The catalogue's size, which only the page's own matches are compared with (_page).
        catalogue_sql = "0" if without else f"(SELECT COUNT(*) FROM {Trial._meta.db_table} WHERE sample < {SLICE})"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT n, CASE WHEN n <= %s THEN (SELECT COUNT(*) FROM ({every_sql}) every_match) END, "
                f"{catalogue_sql} FROM (SELECT COUNT(*) AS n FROM ({sampled_sql}) sampled) counted",
                [SMALL_SLICE, *every_params, *sampled_params],
            )
            in_slice, exact, catalogue_slice = cursor.fetchone()
        catalogue = catalogue_slice * SAMPLES // SLICE
        if exact is not None and exact <= EXACT_LIMIT:
            return _Measure(Total(exact, exact=True), None, catalogue)
        estimate = exact if exact is not None else max(in_slice * SAMPLES // SLICE, EXACT_LIMIT + 1)
        # The nearest power of two: the slices the PostgreSQL index knows (backends.slices_of), down to one trial
        # in 256 for the broadest matches; about 0.7 to 1.4 times TARGET_SAMPLED trials are then read.
        sample_below = min(SAMPLES, max(1, 2 ** round(math.log2(SAMPLES * TARGET_SAMPLED / estimate))))
        return _Measure(Total(estimate, exact=False), sample_below, catalogue)

    def facet_counts(self, names: list[str], measure: _Measure, *, without: str | None = None) -> dict:
        counts: dict[str, dict[str, Total]] = {name: {} for name in names}
        if measure.total.value == 0:
            return counts  # known without reading every match's values again, which can take long to find none
        scale = 1 if measure.total.exact else SAMPLES / measure.sample_below
        if self.backend.holds_filters:
            where, params = self._where(without=without, sample_below=measure.sample_below)
            for name, value, number in self.backend.facet_counts(where, params, names):
                if name in counts:
                    counts[name][value] = Total(round(number * scale), exact=measure.total.exact)
            return counts
        rows = TrialFacet.objects.filter(name__in=names)
        if self._filtered:
            # Read each matching trial's values through the (trial, name, value) index alone.
            matches = self.matches(without=without, sample_below=measure.sample_below)
            rows = rows.filter(trial_id__in=matches.values("id"))
        elif measure.sample_below is not None:
            rows = rows.filter(sample__lt=measure.sample_below)
        for name, value, number in rows.values_list("name", "value").annotate(n=Count("*")).order_by():
            counts[name][value] = Total(round(number * scale), exact=measure.total.exact)
        return counts

    def facets(self, main: _Measure, chosen: list[Callable[[], dict]]) -> Callable[[], list[Facet]]:
        """Start counting the unchosen facets' values (the chosen ones are being counted: see chosen_counts);
        what is returned waits for all the counts."""
        active = self.filters.active()
        names = self.filters.facet_names
        counting = [alongside(self.facet_counts, [name for name in names if name not in active], main)]
        counting += chosen

        def facets() -> list[Facet]:
            counts = {}
            for counted in counting:
                counts.update(counted())
            return [self._facet(name, counts[name], active.get(name, [])) for name in names]

        return facets

    def chosen_counts(self) -> list[Callable[[], dict]]:
        """Start counting each chosen facet's values; they need nothing of the search's own count, so they can
        start before it."""
        active = self.filters.active()
        return [alongside(self._counts_without, name) for name in self.filters.facet_names if name in active]

    def _counts_without(self, name: str) -> dict:
        """A chosen facet counts its other values as if it were not chosen, so each count is what choosing that
        value instead would give."""
        return self.facet_counts([name], self.measure(without=name), without=name)

    def _facet(self, name: str, counts: dict[str, Total], chosen: list[str]) -> Facet:
        facet_filter: FacetFilter = self.filters.filters[name]
        ordered = sorted(counts.items(), key=lambda item: (-item[1].value, item[0]))
        shown = [value for value, _ in ordered[:FACET_LENGTH]]
        shown += [value for value in chosen if value not in shown]
        values = [
            FacetValue(
                value=value,
                label=facet_filter.label_of.get(value, value),
                count=counts.get(value, Total(0, exact=True)),
                selected=value in chosen,
            )
            for value in shown
        ]
        return Facet(name, str(facet_filter.label), values, hidden=max(0, len(ordered) - FACET_LENGTH))

    def _ranked(self, main: _Measure) -> bool:
        return SORTS[self.sort][1] is None and bool(self.query.included) and main.total.exact

    def ordered(self, matches: QuerySet, main: _Measure) -> tuple[QuerySet, bool]:
        ranked = self._ranked(main)
        if ranked:
            matches = matches.annotate(relevance=self.backend.relevance(self.query))
            order = [F("relevance").desc(), F("id").desc()]
        else:
            order = self._column_order(walk_index=False)
        if self.query.registry_id:
            # The trial whose id was typed comes first; trials citing that id follow.
            exact_id = When(registry_id__iexact=self.query.registry_id, then=Value(0))
            order.insert(0, Case(exact_id, default=Value(1), output_field=IntegerField()).asc())
        return matches.order_by(*order), ranked

    def _column_order(self, *, walk_index: bool = True) -> list:
        column = SORTS[self.sort][1] or "last_update_date"
        if walk_index:
            return [F(column).desc(nulls_last=True), F("id").desc()]
        # The same order written so that no index provides it: a few matches are then gathered and sorted,
        # instead of the planner walking the sort index in the hope of meeting 25 matches soon.
        if column.endswith("_date"):
            key = Coalesce(column, Value(datetime.date.min), output_field=DateField())
        else:
            key = Coalesce(column, Value(-1), output_field=IntegerField())
        return [key.desc(), F("id").desc()]

    def _page(self, main: _Measure, page_number) -> tuple[Page, bool]:
        paginator = Paginator(Trial.objects.none(), PAGE_SIZE)
        paginator.count = min(main.total.value, MAX_RESULTS)
        number = paginator.get_page(page_number).number
        density = main.total.value / max(main.catalogue, 1)
        if not main.total.exact and density >= DENSE:
            # A broad match (never ranked, so listed by a column): walk the trials in that order and check
            # each one's words directly, stopping at the page's end, rather than gather every match to sort.
            listing = self.matches(probe=True).order_by(*self._column_order())
            ranked = False
        else:
            listing, ranked = self.ordered(self._first(number * PAGE_SIZE, main), main)
        paginator.object_list = listing.for_listing(*(SNIPPET_FIELDS if self.query.included else ()))
        page = paginator.page(number)
        page.object_list = list(page.object_list)
        return page, ranked

    def _first(self, count: int, main: _Measure) -> QuerySet:
        """The matches, or on PostgreSQL only the first `count` of them in the listing's order: they are found and
        sorted in the search table, which holds the sort keys, so that only a page of trial rows is read."""
        if not self.backend.holds_filters or self.query.registry_id:  # an id typed comes first: see ordered()
            return self.matches()
        where, params = self._where()
        order = self.query if self._ranked(main) else SORTS[self.sort][1] or "last_update_date"
        return Trial.objects.order_by().filter(id__in=self.backend.first(where, params, order, count))

    def results(self, page_number) -> SearchResults:
        # Started before knowing whether the words match anything: a search corrected below counts them again
        # for the corrected words, a rare cost against waiting for them on every search with filters.
        chosen = self.chosen_counts()
        main = self.measure()
        if main.total.value == 0 and self.query.included:
            corrected = self.corrected()
            if corrected:
                retry = Search(corrected, self.filters, self.sort)
                results = retry.results(page_number)
                results.corrected_from = self.query.text
                return results
        # Facet counts take PostgreSQL about as long as finding and reading the page of trials, and the page's
        # other registrations as long as its conditions and countries: each is read meanwhile.
        facets = self.facets(main, chosen)
        page, ranked = self._page(main, page_number)
        registrations = alongside(Trial.objects.registered_elsewhere, page.object_list)
        Trial.objects.with_listing_data(page.object_list)
        words = [w for clause in self.query.included for terms in clause.alternatives for w in terms.words]
        for trial in page.object_list:
            trial.snippet = snippet(trial, words)
        registered = registrations()
        for trial in page.object_list:
            trial.registrations = registered[trial.pk]
        return SearchResults(self.query, self.sort, main.total, page, facets(), ranked)

    def corrected(self) -> str:
        """The query with each word that the index does not know replaced by the closest known word."""
        words = []
        for word in self.query.text.split():
            bare = word.strip('"-')
            if bare.isalpha() and bare.isascii() and len(bare) >= 4 and bare != "OR":
                word = word.replace(bare, self.backend.closest_word(bare.lower()) or bare)
            words.append(word)
        corrected = " ".join(words)
        return corrected if corrected.lower() != self.query.text.lower() else ""
