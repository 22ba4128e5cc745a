from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Prefetch, Q


class TrialQuerySet(models.QuerySet):
    def with_listing_data(self) -> TrialQuerySet:
        """What a list of trials shows: the trial row and its conditions and sites' countries."""
        from .models import Condition, Site

        return self.prefetch_related(
            Prefetch(
                "conditions", queryset=Condition.objects.filter(vocabulary="").only("trial_id", "name", "position")
            ),
            Prefetch("sites", queryset=Site.objects.only("trial_id", "country", "position")),
        )

    def with_full_record(self) -> TrialQuerySet:
        """Every child of a trial, in registry order, in a fixed number of queries."""
        from .models import Intervention

        return self.prefetch_related(
            "conditions",
            "keywords",
            "arms",
            Prefetch("interventions", queryset=Intervention.objects.prefetch_related("arms")),
            "outcomes",
            "criteria",
            "sites",
            "sponsors",
            "contacts",
            "identifiers",
            "biospecimens",
        )

    def with_history(self) -> TrialQuerySet:
        """A trial's versions, newest first, with their snapshots (not their raw records), in one query."""
        from .models import SourceRecord

        return self.prefetch_related(Prefetch("sources", queryset=SourceRecord.objects.defer("content")))

    def by_registry_id(self, registry_id: str) -> TrialQuerySet:
        return self.filter(registry_id=registry_id)

    def by_registry_ids(self, registry_ids: Iterable[str]) -> TrialQuerySet:
        return self.filter(registry_id__in=list(registry_ids))

    def spellings(self, registry_ids: Iterable[str]) -> dict[str, str]:
        """The registry's spelling of ids typed in any case, keyed by the typed id casefolded.

        Case-insensitive matching cannot use the registry id index, so ask this only for ids not found as typed.
        """
        matches = Q()
        for registry_id in registry_ids:
            matches |= Q(registry_id__iexact=registry_id)
        if not matches:
            return {}
        spelled = self.filter(matches).values_list("registry_id", flat=True)
        return {registry_id.casefold(): registry_id for registry_id in spelled}
