"""Full-text search on the two databases we run on: PostgreSQL tsvector and SQLite FTS5.

Both index the same weighted text (see text.py) and answer the same parsed query with a relevance score. On
SQLite the engine asks for "the ids of trials matching the words" and applies the filters on TrialFacet rows
and the trial's columns; PostgreSQL holds the filtered values beside the words (`holds_filters`), so the engine
asks it for one condition on the words and the filters together (`where`) and for facet counts under it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from ..filters import Narrowing
from .query import Clause, ParsedQuery, Terms, content_words
from .text import cjk_bigrams

TABLE = "trials_searchdocument"
BATCH = "trials_searchdocument_batch"  # a temporary table: the documents being indexed
# Words of titles, conditions and interventions: what a misspelt query word is corrected against.
WORDS = "trials_searchword"
WEIGHTS = ("A", "B", "C", "D")
# What filters compare, beside the facet values, and what listings sort by (text.py column_values, in this order).
COLUMNS = (
    ("min_age", "float8"),
    ("max_age", "float8"),
    ("start_date", "date"),
    ("enrollment", "int4"),
    ("last_update_date", "date"),
    ("registration_date", "date"),
)


def facet_keys(pairs: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{name}={value}" for name, value in pairs]


def slices_of(sample: int) -> list[int]:
    """The slices of trials a trial belongs to, named by their bound (sample below 1, 2, 4, ... 128): in the same GIN
    index as the facet values, so a slice's trials having some values are found in the index, not by reading rows.
    An array beside the facet values, not among them, which facet counts would then have to read through."""
    return [bound for bound in SLICE_BOUNDS if sample < bound]


SLICE_BOUNDS = (1, 2, 4, 8, 16, 32, 64, 128)
INDEXED_SLICE = 2  # trials with a sample below this have a words index of their own (slice_idx)


SORT_COLUMNS = ("last_update_date", "start_date", "registration_date", "enrollment")


def _words(terms: Terms) -> list[str]:
    """Index tokens of the words: in a phrase, CJK words stay runs of pairs; otherwise every pair is its own token.

    Outside quotes, 股骨头 asks for the pairs 股骨 and 骨头 without their positions: the index answers that alone,
    where a phrase must read each candidate's positions, and the two pairs rarely occur apart.
    """
    if terms.phrase:
        return [cjk_bigrams(word.replace('"', " ")).strip() for word in terms.words]
    words = content_words(terms.words) or terms.words
    return [token for word in words for token in cjk_bigrams(word.replace('"', " ")).split()]


class PostgresSearch:
    """A stored tsvector per trial (English stemming, CJK as character pairs) under a GIN index."""

    install_sql = (
        f"""CREATE TABLE {TABLE} (
            trial_id integer PRIMARY KEY REFERENCES trials_trial (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            sample smallint NOT NULL,
            document tsvector NOT NULL
        )""",
        # Estimates read a sampled slice of the trials (sample below some bound): with the sample in the index
        # (btree_gin), a slice's matches are found in the index, not by reading every match's row. The same index
        # answers the words alone: a GIN index on the document by itself was never chosen over it. (Migration 0011
        # replaced it with one index on the facet values and the document.)
        "CREATE EXTENSION IF NOT EXISTS btree_gin",
        f"CREATE INDEX {TABLE}_sample_document_idx ON {TABLE} USING gin (sample, document)",
        # The slice every estimate starts from (engine.SLICE) has its own small index.
        f"CREATE INDEX {TABLE}_slice_idx ON {TABLE} USING gin (document) WHERE sample < {INDEXED_SLICE}",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE TABLE {WORDS} (word text PRIMARY KEY)",
        # Facet values are (name, value) pairs whose frequencies the planner must know together ("country" and
        # "China" are not independent); without this it misjudges every filter by a factor of ten or more.
        "CREATE STATISTICS IF NOT EXISTS trials_trialfacet_name_value (mcv, dependencies) ON name, value "
        "FROM trials_trialfacet",
        "ALTER TABLE trials_trialfacet ALTER COLUMN value SET STATISTICS 1000",
        # Sorting by a date or by enrolment, newest or largest first, with trials lacking the value last.
        *(
            f"CREATE INDEX trials_trial_{column}_sort_idx ON trials_trial ({column} DESC NULLS LAST, id DESC)"
            for column in SORT_COLUMNS
        ),
        f"CREATE INDEX {WORDS}_trigram_idx ON {WORDS} USING gin (word gin_trgm_ops)",
    )
    uninstall_sql = (
        f"DROP TABLE IF EXISTS {TABLE}",
        f"DROP TABLE IF EXISTS {WORDS}",
        *(f"DROP INDEX IF EXISTS trials_trial_{column}_sort_idx" for column in SORT_COLUMNS),
        "DROP STATISTICS IF EXISTS trials_trialfacet_name_value",
    )

    holds_filters = True

    def index(self, rows: Iterable[tuple[int, int, dict[str, str]]], filters: dict[int, tuple]) -> None:
        """Write each trial's document, and beside it what the filters read (its facet values as `name=value`
        keys, its ages, start date and enrolment) and its sort keys, so that a search reads one table until it
        has its page of trials."""
        rows = list(rows)
        if not rows:
            return
        names = ", ".join(name for name, _ in COLUMNS)
        document = " || ".join(f"setweight(to_tsvector('english', {w.lower()}), '{w}')" for w in WEIGHTS)
        with transaction.atomic(), connection.cursor() as cursor:
            # The batch goes in by COPY to a table of this session, and PostgreSQL builds the documents from there:
            # passed as text arrays instead, the texts cost twice as much to send and to read back.
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {BATCH} (trial_id integer, sample smallint, "
                + "".join(f"{weight.lower()} text, " for weight in WEIGHTS)
                + "facets text[], slices int2[], "
                + ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
                + ") ON COMMIT DELETE ROWS"
            )
            with cursor.cursor.copy(f"COPY {BATCH} FROM STDIN (FORMAT BINARY)") as copy:
                types = ["int4", "int2", *["text"] * len(WEIGHTS), "text[]", "int2[]", *(kind for _, kind in COLUMNS)]
                copy.set_types(types)
                for trial_id, sample, texts in rows:
                    facets, values = filters[trial_id]
                    keys, slices = facet_keys(facets), slices_of(sample)
                    copy.write_row([trial_id, sample, *(texts[weight] for weight in WEIGHTS), keys, slices, *values])
            cursor.execute(
                f"INSERT INTO {TABLE} (trial_id, sample, document, facets, slices, {names}) "
                f"SELECT trial_id, sample, {document}, facets, slices, {names} FROM {BATCH} "
                "ON CONFLICT (trial_id) DO UPDATE SET sample = EXCLUDED.sample, document = EXCLUDED.document, "
                "facets = EXCLUDED.facets, slices = EXCLUDED.slices, "
                + ", ".join(f"{name} = EXCLUDED.{name}" for name, _ in COLUMNS)
            )
            # A transaction may index more than one batch; the rows deleted here are reclaimed at commit (ON COMMIT
            # DELETE ROWS), as nothing vacuums a temporary table.
            cursor.execute(f"DELETE FROM {BATCH}")

    def where(
        self, query: ParsedQuery, narrowing: Narrowing, *, sample_below: int | None = None, probe: bool = False
    ) -> tuple[str, list]:
        """The condition on this table for trials matching the words and the filters ("" for every trial).

        With `probe`, words are checked on the row at hand (ts_match_vq) rather than looked up in the index."""
        conditions, params = [], []
        if sample_below is not None and query.included and (sample_below == INDEXED_SLICE or sample_below >= 64):
            # The slice every estimate starts from has an index of its own for its words (slice_idx), which this
            # predicate selects (half of it, the slice below 1, is found faster by its key in the main index). A
            # large slice (a quarter of all trials or more) goes with words matching few trials: checking each
            # match's row is then cheaper than reading the slice's long entry in the facets index (measured at
            # 500,000 trials: 2,456 matches, half sampled, 18 ms against 52 ms).
            conditions.append(f"sample < {int(sample_below)}")
        elif sample_below in SLICE_BOUNDS:
            conditions.append(f"slices @> '{{{int(sample_below)}}}'::int2[]")
        elif sample_below is not None:
            conditions.append(f"sample < {int(sample_below)}")
        for name, values in narrowing.facets.items():
            conditions.append("facets && %s::text[]")
            params.append(facet_keys((name, value) for value in values))
        if narrowing.age is not None:
            conditions.append("(min_age IS NULL OR min_age <= %s) AND (max_age IS NULL OR max_age >= %s)")
            params += [narrowing.age, narrowing.age]
        for column, (low, high) in (("start_date", narrowing.start_date), ("enrollment", narrowing.enrollment)):
            if low is not None:
                conditions.append(f"{column} >= %s")
                params.append(low)
            if high is not None:
                conditions.append(f"{column} <= %s")
                params.append(high)
        if query:
            # Only exclusions ("-alport"): every trial but those matching any of them.
            negate = "" if query.included else "NOT "
            sql, words = self._tsquery(query if query.included else query.exclusions())
            match = f"ts_match_vq(document, {sql})" if probe else f"document @@ ({sql})"
            conditions.append(negate + match)
            params += words
        return " AND ".join(conditions), params

    def ids(self, where: str, params: list) -> tuple[str, list]:
        """The ids of the trials meeting `where` ("" for every trial), as SQL and its parameters."""
        return f"SELECT trial_id FROM {TABLE}{' WHERE ' + where if where else ''}", params

    def first(self, where: str, params: list, order: str | ParsedQuery, count: int) -> RawSQL:
        """The ids of the first `count` trials meeting `where`, by a sort column (largest first, trials without a
        value last) or by relevance to a query, ties broken by the newest id."""
        if isinstance(order, str):
            key, key_params = f"{order} DESC NULLS LAST", []
        else:
            sql, key_params = self._tsquery(order)
            key = f"ts_rank(document, {sql}) DESC"
        sql, params = self.ids(where, params)
        return RawSQL(f"{sql} ORDER BY {key}, trial_id DESC LIMIT %s", [*params, *key_params, count])

    def facet_counts(self, where: str, params: list, names: list[str]) -> list[tuple[str, str, int]]:
        """(facet, value, trials) of these facets over the trials meeting `where`."""
        own_keys = ""
        if len(names) == 1:  # a chosen facet counted without its choice: its own keys alone (a quarter faster)
            own_keys, params = " WHERE starts_with(key, %s)", [*params, f"{names[0]}="]
        # unnest in the select list (a ProjectSet) rather than joined laterally: a third less time a key.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key, COUNT(*) FROM (SELECT unnest(facets) AS key FROM {TABLE}"
                f"{' WHERE ' + where if where else ''}) keys{own_keys} GROUP BY key",
                params,
            )
            return [(*key.split("=", 1), number) for key, number in cursor.fetchall()]

    def add_words(self, words: set[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WORDS} (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", [sorted(words)]
            )

    def settle(self) -> int:
        """Move what indexing left in the GIN indexes' pending lists into the indexes proper; returns how many pages
        of pending entries there were.

        Every search reads a pending list through (up to 4 MB), and autovacuum, which would empty it, waits until a
        fifth of the table has changed: after a small ingest, that can be never."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(SUM(gin_clean_pending_list(index.indexrelid)), 0)::int FROM pg_index index"
                " JOIN pg_class class ON class.oid = index.indexrelid JOIN pg_am am ON am.oid = class.relam"
                " WHERE am.amname = 'gin' AND index.indrelid IN (%s::regclass, %s::regclass)",
                [TABLE, WORDS],
            )
            return cursor.fetchone()[0]

    def closest_word(self, word: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word FROM {WORDS} WHERE word %% %s ORDER BY similarity(word, %s) DESC, word LIMIT 1",
                [word, word],
            )
            row = cursor.fetchone()
        return row[0] if row else ""

    def _terms(self, terms: Terms) -> tuple[str, list]:
        words = _words(terms)
        text = f'"{" ".join(words)}"' if terms.phrase else " ".join(f'"{word}"' for word in words)
        return "websearch_to_tsquery('english', %s)", [text]

    def _clause(self, clause: Clause) -> tuple[str, list]:
        parts = [self._terms(terms) for terms in clause.alternatives]
        return "(" + " || ".join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]

    def _tsquery(self, query: ParsedQuery) -> tuple[str, list]:
        included = [self._clause(clause) for clause in query.included]
        excluded = [self._clause(clause) for clause in query.excluded]
        sql = " && ".join(s for s, _ in included) or "''::tsquery"
        if excluded:
            sql = f"({sql}) && !!(" + " || ".join(s for s, _ in excluded) + ")"
        return sql, [p for _, params in (*included, *excluded) for p in params]

    def relevance(self, query: ParsedQuery) -> RawSQL:
        sql, params = self._tsquery(query)
        return RawSQL(f'(SELECT ts_rank(document, {sql}) FROM {TABLE} WHERE trial_id = "trials_trial"."id")', params)


class SqliteSearch:
    """An FTS5 table keyed by trial id, one column per weight, ranked by BM25 with the weights as column boosts."""

    install_sql = (
        f"""CREATE VIRTUAL TABLE {TABLE} USING fts5(
            a, b, c, d, sample UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2'
        )""",
        # FTS5 tables take no foreign key: this trigger does what ON DELETE CASCADE does on PostgreSQL.
        f"""CREATE TRIGGER {TABLE}_trial_deleted AFTER DELETE ON trials_trial BEGIN
            DELETE FROM {TABLE} WHERE rowid = old.id;
        END""",
        f"CREATE TABLE {WORDS} (word text PRIMARY KEY) WITHOUT ROWID",
    )
    uninstall_sql = (
        f"DROP TRIGGER IF EXISTS {TABLE}_trial_deleted",
        f"DROP TABLE IF EXISTS {TABLE}",
        f"DROP TABLE IF EXISTS {WORDS}",
    )

    holds_filters = False  # filters read TrialFacet rows and the trial's columns (trials/filters.py)

    def index(self, rows: Iterable[tuple[int, int, dict[str, str]]], filters: dict[int, tuple]) -> None:
        rows = list(rows)
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = %s", [(trial_id,) for trial_id, _, _ in rows])
            cursor.executemany(
                f"INSERT INTO {TABLE} (rowid, sample, a, b, c, d) VALUES (%s, %s, %s, %s, %s, %s)",
                [(trial_id, sample, *(texts[w] for w in WEIGHTS)) for trial_id, sample, texts in rows],
            )

    def add_words(self, words: set[str]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT OR IGNORE INTO {WORDS} (word) VALUES (%s)", [(word,) for word in words])

    def settle(self) -> int:
        """Nothing to do: FTS5 merges its segments as it writes them."""
        return 0

    def closest_word(self, word: str) -> str:
        # No trigram index in SQLite: compare with the words sharing the first letter, which keeps it small.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT word FROM {WORDS} WHERE word >= %s AND word < %s", [word[0], chr(ord(word[0]) + 1)])
            candidates = [row[0] for row in cursor.fetchall()]
        return next(iter(difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)), "")

    def _terms(self, terms: Terms) -> str:
        words = [word.replace('"', '""') for word in _words(terms)]
        if terms.phrase:
            return '"' + " ".join(words) + '"'
        return "(" + " AND ".join(f'"{word}"' for word in words) + ")"

    def _clause(self, clause: Clause) -> str:
        return "(" + " OR ".join(self._terms(terms) for terms in clause.alternatives) + ")"

    def _expression(self, query: ParsedQuery) -> str:
        expression = " AND ".join(self._clause(clause) for clause in query.included)
        if query.excluded:
            excluded = " OR ".join(self._clause(clause) for clause in query.excluded)
            expression = f"({expression}) NOT ({excluded})"
        return expression

    def matching_ids(self, query: ParsedQuery) -> RawSQL:
        # Only the index: a condition on another column (the sample) reads each match's stored texts, ~5 KB a trial
        # (a broad word at 20,000 trials: 50 ms). The caller filters the trials' own sample instead.
        return RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", [self._expression(query)])

    def trial_matches(self, query: ParsedQuery) -> RawSQL:
        return RawSQL(
            f'"trials_trial"."id" IN (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s)',
            [self._expression(query)],
            output_field=BooleanField(),
        )

    def relevance(self, query: ParsedQuery) -> RawSQL:
        # bm25() is lower for better matches; negate it so that both backends sort by descending relevance.
        return RawSQL(
            f"(SELECT -bm25({TABLE}, 10.0, 5.0, 2.0, 1.0) FROM {TABLE} "
            f'WHERE {TABLE} MATCH %s AND rowid = "trials_trial"."id")',
            [self._expression(query)],
        )


def search_backend() -> PostgresSearch | SqliteSearch:
    return PostgresSearch() if connection.vendor == "postgresql" else SqliteSearch()
