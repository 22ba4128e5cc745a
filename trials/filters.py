"""The search page's filters. Every facet filter reads the values its counts come from (TrialFacet rows on SQLite,
the facet keys of the search document on PostgreSQL), so the count shown beside a value is the number of trials a
click on it gives."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable
from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from .choices import InterventionType, IpdSharing, Phase, RegistrationTiming, Registry, Sex, Status, StudyType
from .models import Trial, TrialFacet

YES_NO = [("yes", "Yes"), ("no", "No")]


@dataclass(frozen=True)
class Narrowing:
    """The active filters as values, for a search index that holds them beside each trial's words."""

    facets: dict[str, list[str]]  # facet name: any of these values
    age: float | None = None  # accepts a patient of this age; a missing limit is open
    start_date: tuple[datetime.date | None, datetime.date | None] = (None, None)  # inclusive
    enrollment: tuple[int | None, int | None] = (None, None)  # inclusive


class AnyValuesField(forms.Field):
    """Repeated parameters taken as they are: countries and sponsors have no fixed list."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[str]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        return [text.strip()[:200] for text in values if text and text.strip()]


class FixedChoicesField(forms.MultipleChoiceField):
    """Choices that are the same on every request: each request's copy of the form shares them."""

    def __deepcopy__(self, memo):
        return forms.Field.__deepcopy__(self, memo)  # what ChoiceField adds is a deep copy of the choices


class FacetFilter(django_filters.Filter):
    """Trials having any of the chosen values of one facet."""

    field_class = AnyValuesField

    def __init__(self, *args, choices=None, **kwargs):
        self.label_of = dict(choices or ())
        if choices:
            self.field_class = FixedChoicesField
            kwargs["choices"] = choices
        super().__init__(*args, **kwargs)

    def __deepcopy__(self, memo):
        # Every request copies the filters; a deep copy of each one's choices and labels was most of that cost
        # (a filter set and its form: 0.68 ms a request). Nothing changes them, so the copies share them.
        copied = copy.copy(self)
        copied.extra = dict(self.extra)
        memo[id(self)] = copied
        return copied

    def filter(self, qs: QuerySet, value: Iterable[str], *, sample_below: int | None = None) -> QuerySet:
        values = list(value or ())
        if not values:
            return qs
        facet_rows = TrialFacet.objects.filter(name=self.field_name, value__in=values)
        if sample_below is not None:
            facet_rows = facet_rows.filter(sample__lt=sample_below)
        return qs.filter(id__in=facet_rows.values("trial_id"))


def _facet(label: str, choices=None) -> FacetFilter:
    return FacetFilter(label=label, choices=choices)


class TrialFilter(django_filters.FilterSet):
    registry = _facet("Registry", Registry.choices)
    status = _facet("Recruitment status", Status.choices)
    phase = _facet("Phase", Phase.choices)
    study_type = _facet("Study type", StudyType.choices)
    country = _facet("Country")
    sex = _facet("Sex", Sex.choices)
    age = django_filters.NumberFilter(
        label="Accepts a patient aged", method="filter_age", min_value=0, max_value=130, help_text="years"
    )
    healthy_volunteers = _facet("Healthy volunteers", YES_NO)
    intervention_type = _facet("Intervention type", InterventionType.choices)
    dmc = _facet("Data monitoring committee", YES_NO)
    ipd_sharing = _facet("Shares individual participant data", IpdSharing.choices)
    registration_timing = _facet("Registered", RegistrationTiming.choices)
    start_date = django_filters.DateFromToRangeFilter(label="Start date")
    enrollment = django_filters.RangeFilter(label="Enrolment")
    sponsor = _facet("Sponsor")

    class Meta:
        model = Trial
        fields: list[str] = []

    def filter_age(self, qs: QuerySet, name: str, value) -> QuerySet:
        # A limit the registry left open ("no limit", missing) accepts every age on that side.
        return qs.filter(
            Q(min_age_years__isnull=True) | Q(min_age_years__lte=value),
            Q(max_age_years__isnull=True) | Q(max_age_years__gte=value),
        )

    def get_form_class(self) -> type[forms.Form]:
        # The filters are the same on every request: their form class is built once, not once per search.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    @property
    def facet_names(self) -> list[str]:
        return [name for name, item in self.filters.items() if isinstance(item, FacetFilter)]

    def active(self) -> dict[str, object]:
        """The valid filters the request set, by name."""
        self.is_valid()
        cleaned = self.form.cleaned_data
        return {name: value for name, value in cleaned.items() if value not in (None, "", [], ()) and _set(value)}

    def narrowing(self, *, without: str | None = None) -> Narrowing:
        """The valid filters but `without`, as plain values."""
        active = {name: value for name, value in self.active().items() if name != without}
        facets = {name: list(value) for name, value in active.items() if isinstance(self.filters[name], FacetFilter)}
        age = active.get("age")
        return Narrowing(
            facets,
            age=float(age) if age is not None else None,
            start_date=_bounds(active.get("start_date"), _as_date),
            enrollment=_bounds(active.get("enrollment"), int),
        )

    def apply(
        self,
        queryset: QuerySet,
        *,
        without: str | None = None,
        sample_below: int | None = None,
        columns_only: bool = False,
    ) -> QuerySet:
        """The queryset narrowed by every valid filter but `without` (to count that facet's other values).

        `sample_below` says the queryset holds only sampled trials, so facet lookups can stay in the sample;
        `columns_only` applies only the filters on the trial's own columns (ages, start date, enrolment).
        """
        for name, value in self.active().items():
            if name == without:
                continue
            item = self.filters[name]
            if isinstance(item, FacetFilter):
                if not columns_only:
                    queryset = item.filter(queryset, value, sample_below=sample_below)
            else:
                queryset = item.filter(queryset, value)
        return queryset


def _set(value) -> bool:
    # Range filters clean to a slice; an empty one (neither end given) filters nothing.
    return not isinstance(value, slice) or value.start is not None or value.stop is not None


def _bounds(value: slice | None, convert) -> tuple:
    if value is None:
        return (None, None)
    return tuple(None if end is None else convert(end) for end in (value.start, value.stop))


def _as_date(value) -> datetime.date:
    # The date range field cleans to datetimes spanning the days chosen (00:00 to 23:59): the days are the bounds.
    return value.date() if isinstance(value, datetime.datetime) else value
