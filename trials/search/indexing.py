"""Keeping the search index current: facet values, the full-text document and the spelling vocabulary."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence

from ..bulk import insert_rows
from ..models import Trial, TrialFacet
from .backends import search_backend
from .text import column_values, facet_values, weighted_texts

SAMPLES = 256
VOCABULARY_WORD = re.compile(r"[a-z][a-z'-]{3,40}")


def sample_of(registry_id: str) -> int:
    """A stable number in 0-255 from the registry id, spreading trials evenly for estimated counts."""
    return zlib.crc32(registry_id.upper().encode()) % SAMPLES


def index_trials(items: Sequence[tuple[int, int, object]], *, new: bool = False) -> None:
    """Index trials given as (id, sample, source): source is an ingest record, or a Trial with its children
    prefetched. `new` trials have nothing indexed yet, so nothing is deleted first."""
    if not items:
        return
    backend = search_backend()
    facets = {trial_id: facet_values(source) for trial_id, _, source in items}
    if not backend.holds_filters:  # PostgreSQL keeps the facet values in the search document instead
        if not new:
            TrialFacet.objects.filter(trial_id__in=list(facets)).delete()
        insert_rows(
            TrialFacet,
            ["trial", "name", "value", "sample"],
            ((trial_id, name, value, sample) for trial_id, sample, _ in items for name, value in facets[trial_id]),
        )
    texts = [(trial_id, sample, weighted_texts(source)) for trial_id, sample, source in items]
    backend.index(texts, {trial_id: (facets[trial_id], column_values(source)) for trial_id, _, source in items})
    backend.add_words({word for _, _, by_weight in texts for word in VOCABULARY_WORD.findall(by_weight["A"].lower())})


def settle_index() -> int:
    """After a run of indexing: leave the index as searches read it fastest (returns what the backend says it did)."""
    return search_backend().settle()


def reindex(trials: Iterable[Trial] | None = None, *, batch_size: int = 500) -> int:
    """Rebuild the index of these trials (all when None) from what is stored; returns how many."""
    queryset = Trial.objects.all() if trials is None else Trial.objects.filter(pk__in=[t.pk for t in trials])
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = list(Trial.objects.with_full_record().filter(pk__in=ids[start : start + batch_size]))
        index_trials([(trial.pk, trial.sample, trial) for trial in batch])
    settle_index()
    return len(ids)
