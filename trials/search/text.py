"""What the search index holds for a trial: weighted text and facet values.

Both functions read a trial through attribute names alone, so they take an ingest TrialRecord (children as
tuples) or a Trial instance (children as prefetched managers) alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Han (with extensions), kana and Hangul: scripts written without spaces between words.
CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
CJK_FIRST = "\u3040"  # no character before this one is in CJK_RUN

# Search weights, A highest: what a trial is about outranks where the words merely appear.
WEIGHTED_FIELDS = {
    "A": (
        "registry_id",
        "public_title",
        "public_title_original",
        "scientific_title",
        "scientific_title_original",
        "acronym",
        "acronym_original",
        ("identifiers", "value"),
        ("conditions", "name", "name_original"),
        ("interventions", "name", "name_original"),
    ),
    "B": (
        ("keywords", "name", "name_original"),
        ("arms", "label", "label_original", "description", "description_original"),
        ("interventions", "description", "description_original"),
    ),
    "C": (
        "brief_summary",
        "brief_summary_original",
        "objectives",
        "objectives_original",
        ("outcomes", "measure", "measure_original", "description", "description_original"),
    ),
    "D": (
        "description",
        "description_original",
        "eligibility_text",
        "eligibility_text_original",
        ("criteria", "text", "text_original"),  # skipped when the eligibility text above holds them
        ("sponsors", "name", "name_original"),
        ("sites", "facility", "facility_original", "city", "country", "location_original"),
        "funding",
        "funding_original",
    ),
}


def children(trial, name: str) -> Iterable:
    value = getattr(trial, name)
    return value.all() if hasattr(value, "all") else value


def cjk_bigrams(text: str) -> str:
    """Spell each run of CJK characters as its overlapping character pairs, the way Lucene's CJK analyzer does.

    A query of two or more characters, turned into pairs the same way, then matches any text that contains
    it, wherever a word segmenter would have cut.
    """
    if text.isascii() or max(text) < CJK_FIRST:
        return text  # most text has no CJK, and these tests are far quicker than the pattern's search

    def pairs(match: re.Match) -> str:
        run = match.group()
        if len(run) == 1:
            return f" {run} "
        return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "

    return CJK_RUN.sub(pairs, text)


def weighted_texts(trial) -> dict[str, str]:
    """The trial's searchable text by weight, CJK already split into pairs.

    Each distinct piece of text is indexed once: the same city on 190 sites, or criteria that repeat the
    eligibility text they were split from, would only make indexing slower (ranking counts words per field).
    """
    skip = {"criteria"} if trial.eligibility_text or trial.eligibility_text_original else set()
    texts = {}
    for weight, fields in WEIGHTED_FIELDS.items():
        parts = []
        for field in fields:
            if isinstance(field, str):
                parts.append(getattr(trial, field) or "")
            elif field[0] not in skip:
                related, *names = field
                parts.extend(getattr(child, name) or "" for child in children(trial, related) for name in names)
        texts[weight] = cjk_bigrams("\n".join(part for part in dict.fromkeys(parts) if part))
    return texts


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def facet_values(trial) -> list[tuple[str, str]]:
    """(facet, value) pairs a trial is counted under; a trial counts once per distinct value."""
    pairs = [
        ("registry", trial.registry),
        ("status", trial.status),
        ("study_type", trial.study_type),
        ("sex", trial.sex),
        ("healthy_volunteers", _yes_no(trial.healthy_volunteers)),
        ("dmc", _yes_no(trial.has_dmc)),
        ("ipd_sharing", trial.ipd_sharing),
        ("registration_timing", trial.registration_timing),
        *(("phase", phase) for phase in trial.phases),
        *(("country", site.country) for site in children(trial, "sites")),
        *(("intervention_type", item.type) for item in children(trial, "interventions")),
        *(("sponsor", sponsor.name) for sponsor in children(trial, "sponsors")),
    ]
    return list(dict.fromkeys((facet, value[:200]) for facet, value in pairs if value))


def column_values(trial) -> tuple:
    """(youngest age, oldest age, start date, enrolment, last update, registration date) of a trial or an ingest
    record: what filters compare and what listings sort by."""
    actual = trial.enrollment_actual
    return (
        trial.min_age_years,
        trial.max_age_years,
        _date(trial.start_date),
        actual if actual is not None else trial.enrollment_target,
        _date(trial.last_update_date),
        _date(trial.registration_date),
    )


def _date(value):
    return getattr(value, "value", value)  # an ingest record's dates are partial dates
