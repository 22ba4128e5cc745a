"""The reader's choice of language for bilingual records: ``?lang=both|en|original``."""

from __future__ import annotations

LANGUAGES = {"both": "Both languages", "en": "English", "original": "Original language"}


def chosen(value: str | None) -> str:
    return value if value in LANGUAGES else "both"


def shown(english: str, original: str, lang: str) -> tuple[bool, bool]:
    """Whether to show the English and the original text: the chosen one, or the other where it is all there is."""
    if original == english:
        original = ""
    show_english = bool(english) and (lang != "original" or not original)
    show_original = bool(original) and (lang != "en" or not english)
    return show_english, show_original
