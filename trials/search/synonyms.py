"""Synonym groups learnt from the MeSH terms registry records carry next to their own condition names."""

from __future__ import annotations

from collections import defaultdict

from ..models import Condition, SynonymGroup


def natural_order(mesh_term: str) -> str:
    """MeSH writes "Nephritis, Hereditary"; people write "Hereditary Nephritis"."""
    head, _, qualifier = mesh_term.partition(", ")
    return f"{qualifier} {head}" if qualifier and "," not in qualifier else mesh_term


def mesh_synonym_groups() -> list[list[str]]:
    """For each trial with exactly one condition and one MeSH term, that condition and the term (both spellings).

    With more than one of either, which name maps to which term is unknown, so such trials are skipped.
    """
    names: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"": [], "MeSH": []})
    for trial_id, name, vocabulary in Condition.objects.values_list("trial_id", "name", "vocabulary").iterator():
        names[trial_id].setdefault(vocabulary, []).append(name)
    groups: dict[str, list[str]] = {}
    for by_vocabulary in names.values():
        own, mesh = by_vocabulary[""], by_vocabulary["MeSH"]
        if len(own) == 1 and len(mesh) == 1 and own[0].casefold() != mesh[0].casefold():
            terms = groups.setdefault(mesh[0].casefold(), [mesh[0], natural_order(mesh[0])])
            terms.append(own[0])
    return [list(dict.fromkeys(terms)) for terms in groups.values()]


def add_mesh_synonyms() -> int:
    """Add the learnt groups whose terms are not in any group yet; returns how many were added."""
    known = {term.casefold() for group in SynonymGroup.objects.all() for term in group.term_list}
    added = [
        SynonymGroup(terms="\n".join(terms), source="mesh")
        for terms in mesh_synonym_groups()
        if not any(term.casefold() in known for term in terms)
    ]
    SynonymGroup.objects.bulk_create(added)
    return len(added)
