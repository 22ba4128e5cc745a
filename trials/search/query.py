"""The search box's web-style syntax: words, "exact phrases", OR, -exclusions, registry ids, synonyms."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

# Words that carry no meaning in a condition's name; synonym terms are compared without them.
STOPWORDS = frozenset(
    ["a", "an", "and", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with"]
)

TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# A registry id is one token of letters then digits: NCT06731192, ChiCTR2600126638, ISRCTN12345678,
# CTRI/2020/03/024059, EUCTR2019-001234-56-DE, JPRN-jRCT2031210123, ChiCTR-IOR-17012345.
REGISTRY_ID = re.compile(r"^[A-Za-z]{2,12}[-/A-Za-z0-9]*\d{5,}[-/A-Za-z0-9]*$")


@dataclass(frozen=True)
class Terms:
    """Words that must all occur, next to each other and in order when `phrase`."""

    words: tuple[str, ...]
    phrase: bool = False


@dataclass(frozen=True)
class Clause:
    """Alternatives of which one must match; when `excluded`, none may."""

    alternatives: tuple[Terms, ...]
    excluded: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    clauses: tuple[Clause, ...] = ()
    registry_id: str = ""

    @property
    def included(self) -> tuple[Clause, ...]:
        return tuple(clause for clause in self.clauses if not clause.excluded)

    @property
    def excluded(self) -> tuple[Clause, ...]:
        return tuple(clause for clause in self.clauses if clause.excluded)

    def exclusions(self) -> ParsedQuery:
        """The excluded clauses as a query of their own: what a search of only exclusions ("-alport") leaves out."""
        return ParsedQuery(self.text, tuple(Clause(clause.alternatives) for clause in self.excluded))

    def __bool__(self) -> bool:
        return bool(self.clauses)


def content_words(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(word for word in (w.casefold() for w in words) if word not in STOPWORDS)


def parse_query(text: str) -> ParsedQuery:
    """Read what a user typed: `"stem cell" OR msc -alport` is (phrase or word) and not alport."""
    text = " ".join(text.split())[:500]
    clauses: list[Clause] = []
    join_next = False
    for minus, quoted, bare in TOKEN.findall(text):
        if bare == "OR":
            join_next = bool(clauses) and not clauses[-1].excluded
            continue
        excluded = bool(minus) or (bare.startswith("-") and len(bare) > 1)
        if quoted or minus:
            terms = Terms(tuple(quoted.replace('"', " ").split()), phrase=True)
        else:
            terms = Terms(tuple(bare.lstrip("-").replace('"', " ").split()))
        if not terms.words:
            continue
        if join_next and not excluded:
            clauses[-1] = replace(clauses[-1], alternatives=(*clauses[-1].alternatives, terms))
        else:
            clauses.append(Clause((terms,), excluded=excluded))
        join_next = False
    registry_id = text if REGISTRY_ID.match(text) else ""
    return ParsedQuery(text, tuple(clauses), registry_id)


def expand_synonyms(query: ParsedQuery, groups: Sequence[Sequence[str]]) -> ParsedQuery:
    """Replace words that spell a synonym term by a clause matching any term of its group."""
    if not query.clauses or not groups:
        return query
    by_words: dict[tuple[str, ...], tuple[Terms, ...]] = {}
    for group in groups:
        alternatives = tuple(dict.fromkeys(Terms(content_words(term.split())) for term in group))
        for terms in alternatives:
            if terms.words:
                by_words.setdefault(terms.words, alternatives)
    longest = max(len(words) for words in by_words) if by_words else 0

    clauses = list(query.clauses)
    expanded: list[Clause] = []
    i = 0
    while i < len(clauses):
        match = _synonym_at(clauses, i, by_words, longest)
        if match is None:
            expanded.append(clauses[i])
            i += 1
        else:
            end, alternatives = match
            expanded.append(Clause(alternatives))
            i = end
    return replace(query, clauses=tuple(expanded))


def _synonym_at(clauses: list[Clause], start: int, by_words: dict, longest: int) -> tuple[int, tuple] | None:
    """The longest run of plain words (or one quoted phrase) from `start` that is a synonym term."""
    first = clauses[start]
    if first.excluded or len(first.alternatives) != 1:
        return None
    if first.alternatives[0].phrase:
        found = by_words.get(content_words(first.alternatives[0].words))
        return (start + 1, found) if found else None
    best = None
    words: list[str] = []
    for end in range(start, len(clauses)):
        clause = clauses[end]
        if clause.excluded or len(clause.alternatives) != 1 or clause.alternatives[0].phrase:
            break
        words.extend(clause.alternatives[0].words)
        key = content_words(words)
        if len(key) > longest:
            break
        if key and key in by_words:
            best = (end + 1, by_words[key])
    return best
