from __future__ import annotations

from django.db import models
from django.db.models import Prefetch


class TrialQuerySet(models.QuerySet):
    def newest_first(self) -> TrialQuerySet:
        return self.order_by("-created_at", "-id")

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
        from .models import Intervention, SourceRecord

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
            Prefetch("sources", queryset=SourceRecord.objects.defer("content")),
        )

    def by_registry_id(self, registry_id: str) -> TrialQuerySet:
        return self.filter(registry_id=registry_id)
