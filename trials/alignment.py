"""Lining up similar outcomes or criteria of several trials by meaning, not by position.

Each item is a short text in English, in its original language, or both. Similarity is the cosine of TF-IDF
vectors of normalised tokens: English words lower-cased, stop words dropped and crude suffixes cut
(``pregnant`` and ``pregnancy`` both become ``pregn``); Chinese, Japanese and Korean text as overlapping
character pairs, the way the search index reads it. Two items are compared in each language both of them
have, and the better score counts, so a bilingual ChiCTR criterion matches an English-only one through its
English text. Matching is greedy: from the most similar pair down to the threshold, each pair joins the rows of
its two items, unless the joined row would hold two items of one trial.

Pure Python, no Django: the comparison page feeds it prefetched rows.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .search.text import cjk_bigrams

# Pairs scoring below this share no row. Chosen on the seed trials: the paraphrased exclusions of the osteonecrosis
# trials score 0.25 ("pregnant or lactating women" against a long pregnancy and contraception clause) to 1.0, while
# criteria sharing only incidental words ("severe", "underlying disease") mostly score below 0.2.
THRESHOLD = 0.2

WORD = re.compile(r"\w+")

# Function words, words any criterion or outcome may use whatever it is about (who, when), and time units, so that
# "within the past 3 months" alone makes no two criteria alike.
STOP_WORD_LIST = """
    a an and are as at be been before being by can could did do does during for from had has have having he her
    his if in into is it its may might must no nor not of on or other others our she should such than that the
    their them then there these they this those to under up was we were when where which while who whom will
    with within would you your patient patients subject subjects individual individuals person persons people
    study studies trial trials researcher investigator after prior past day days week weeks month months year
    years
"""
STOP_WORDS = frozenset(STOP_WORD_LIST.split())

# Longest first; a stem keeps at least four letters ("cases" loses "s", "gas" stays).
SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ement",
    "ments",
    "ment",
    "ness",
    "ancy",
    "ency",
    "ance",
    "ence",
    "ings",
    "ing",
    "ies",
    "ied",
    "ated",
    "ates",
    "ant",
    "ent",
    "ed",
    "es",
    "ly",
    "al",
    "ic",
    "ae",
    "s",
    "y",
    "e",
)
MIN_STEM = 4


@dataclass(frozen=True)
class Item:
    """One outcome or criterion of one trial: ``column`` is the trial's place on the page."""

    column: int
    position: int
    english: str = ""
    original: str = ""


@dataclass(frozen=True)
class Row:
    """Items that mean the same, at most one per column; ``score`` is the weakest link that joined them."""

    items: tuple[Item, ...]
    score: float | None = None

    def item_in(self, column: int) -> Item | None:
        return next((item for item in self.items if item.column == column), None)


@lru_cache(maxsize=50_000)  # criteria share most of their words; cutting suffixes was a third of the work
def stem(word: str) -> str:
    """Cut suffixes while one fits: participants, participant and participated all become particip."""
    while suffix := next((s for s in SUFFIXES if word.endswith(s) and len(word) - len(s) >= MIN_STEM), ""):
        word = word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    """Normalised tokens of English or CJK text (CJK runs become character pairs, which are never stemmed)."""
    text = cjk_bigrams(unicodedata.normalize("NFKC", text).casefold())
    # Bare numbers are left out: "1-3 fractures" and "3 years old" are not alike for sharing a 3.
    return [stem(word) for word in WORD.findall(text) if word not in STOP_WORDS and not word.isdigit() and word != "_"]


def tf_idf_vectors(documents: Sequence[list[str]]) -> list[dict[str, float]]:
    """Unit-length vectors: sublinear term frequency (1 + log tf) times smoothed inverse document frequency."""
    count = len(documents)
    frequency = Counter(token for document in documents for token in set(document))
    vectors = []
    for document in documents:
        weights = {
            token: (1 + math.log(n)) * (1 + math.log((1 + count) / (1 + frequency[token])))
            for token, n in Counter(document).items()
        }
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        vectors.append({token: weight / norm for token, weight in weights.items()} if norm else {})
    return vectors


def cosine(left: dict[str, float], right: dict[str, float]) -> float:
    """Cosine of two unit-length sparse vectors."""
    if len(right) < len(left):
        left, right = right, left
    return sum(weight * right.get(token, 0.0) for token, weight in left.items())


def similarity(left: dict[str, float], right: dict[str, float]) -> float:
    """Cosine of two items' vectors in one language, or 0 when they share a single word among several.

    One common word ("function" in "Harris hip function score" and "renal function rate") makes short texts
    look alike; a pair must share two tokens, or every token of the shorter text ("pregnancy").
    """
    shared = left.keys() & right.keys()
    if not shared or len(shared) < min(2, len(left), len(right)):
        return 0.0
    return cosine(left, right)


def similarities(items: Sequence[Item]) -> dict[tuple[int, int], float]:
    """Score of every pair of items in different columns, keyed by their indexes in ``items``; zeros left out."""
    english = tf_idf_vectors([tokens(item.english) for item in items])
    original = tf_idf_vectors([tokens(item.original) for item in items])
    scores = {}
    for i, left in enumerate(items):
        for j in range(i + 1, len(items)):
            if items[j].column == left.column:
                continue
            score = max(
                similarity(english[i], english[j]) if english[i] and english[j] else 0.0,
                similarity(original[i], original[j]) if original[i] and original[j] else 0.0,
            )
            if score > 0:
                scores[i, j] = score
    return scores


def align(items: Sequence[Item], threshold: float = THRESHOLD) -> list[Row]:
    """Group similar items of different columns into rows, greedily from the most similar pair.

    Rows with items of several columns come first, then the items without a counterpart; each part in the
    order of the leftmost column's items.
    """
    groups = {index: [index] for index in range(len(items))}  # group id -> member indexes
    group_of = list(range(len(items)))
    weakest: dict[int, float] = {}
    ranked = sorted(similarities(items).items(), key=lambda pair: (-pair[1], pair[0]))
    for (i, j), score in ranked:
        if score < threshold:
            break
        first, second = group_of[i], group_of[j]
        if first == second:
            continue
        columns = {items[m].column for m in groups[first]}
        if any(items[m].column in columns for m in groups[second]):
            continue  # a row holds at most one item per trial
        for member in groups[second]:
            group_of[member] = first
        groups[first] += groups.pop(second)
        weakest.pop(second, None)
        weakest[first] = score  # pairs come most similar first, so the latest link is the weakest
    rows = [
        Row(tuple(sorted((items[m] for m in members), key=lambda item: item.column)), weakest.get(group))
        for group, members in groups.items()
    ]
    return sorted(rows, key=lambda row: (len(row.items) == 1, row.items[0].column, row.items[0].position))
