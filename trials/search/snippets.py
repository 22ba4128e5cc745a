"""The bit of a trial's text where the searched words occur, with those words marked."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .text import CJK_RUN

# Titles come last: a result shows its title anyway, so a match in the summary says more.
SNIPPET_FIELDS = (
    "brief_summary",
    "brief_summary_original",
    "objectives",
    "objectives_original",
    "description",
    "description_original",
    "eligibility_text",
    "eligibility_text_original",
    "scientific_title",
    "scientific_title_original",
    "public_title",
    "public_title_original",
)
WIDTH = 220


def word_pattern(words: list[str]) -> re.Pattern | None:
    """Words as the index matches them: Latin words by their stem (cells, cell), CJK text literally."""
    parts = []
    for word in words:
        word = word.strip().lower()
        if not word:
            continue
        if CJK_RUN.search(word):
            parts.append(re.escape(word))
        else:
            stem = word[: max(4, len(word) - 2)] if len(word) > 4 else word
            parts.append(rf"\b{re.escape(stem)}\w*")
    return re.compile("|".join(sorted(parts, key=len, reverse=True)), re.IGNORECASE) if parts else None


def snippet(trial, words: list[str]) -> SafeString:
    """A window of about WIDTH characters around the first place a word matched, escaped, matches in <mark>."""
    pattern = word_pattern(words)
    if pattern is None:
        return mark_safe("")
    texts = list(trial.condition_names)
    texts += [getattr(trial, name) or "" for name in SNIPPET_FIELDS]
    for text in texts:
        found = pattern.search(text)
        if found:
            return _window(text, found.start(), pattern)
    return mark_safe("")


def _window(text: str, at: int, pattern: re.Pattern) -> SafeString:
    start = max(0, at - WIDTH // 3)
    if start:
        space = text.find(" ", start, at)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + WIDTH)
    piece = " ".join(text[start:end].split())
    marked = []
    last = 0
    for match in pattern.finditer(piece):
        marked.append(escape(piece[last : match.start()]))
        marked.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    marked.append(escape(piece[last:]))
    return mark_safe(("… " if start else "") + "".join(marked) + (" …" if end < len(text) else ""))
