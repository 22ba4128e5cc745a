"""Geometry of the comparison page's small bar charts, drawn as inline SVG by a template.

Every chart has one row per trial: a line of text (the registry id and the value in words) over a bar on a
shared axis. Text above the bars rather than beside them lets a chart shrink to a phone's width and stay
readable, and a printed page or a screen reader loses nothing that the bar shows.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .documents import partial_date
from .models import Trial

WIDTH = 480
PLOT_LEFT = 16  # room for half a tick label at either end
PLOT_RIGHT = WIDTH - 18
ROW_HEIGHT = 38  # a line of text, then the bar
BAR_HEIGHT = 14
TOP = 16  # room above the rows for the "today" label
AXIS_HEIGHT = 24


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # what the bar says, in words
    y: float
    x: float = 0
    width: float = 0
    open_start: bool = False  # no lower limit: the bar runs off the axis
    open_end: bool = False

    @property
    def drawn(self) -> bool:
        return self.width > 0

    @property
    def text_y(self) -> float:
        return self.y - 5

    @property
    def end(self) -> float:
        return self.x + self.width


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    marker: Tick | None = None  # "today" on the time axis

    width = WIDTH
    plot_left = PLOT_LEFT
    plot_right = PLOT_RIGHT
    bar_height = BAR_HEIGHT

    @property
    def height(self) -> int:
        return TOP + ROW_HEIGHT * len(self.bars) + AXIS_HEIGHT

    @property
    def axis_y(self) -> int:
        return TOP + ROW_HEIGHT * len(self.bars)

    @property
    def tick_label_y(self) -> int:
        return self.axis_y + 17

    @property
    def description(self) -> str:
        return "; ".join(f"{bar.label}: {bar.value}" for bar in self.bars)


def nice_step(span: float, ticks: int = 6) -> float:
    """A step of 1, 2 or 5 times a power of ten that cuts ``span`` into about ``ticks`` parts."""
    if span <= 0:
        return 1
    rough = span / ticks
    power = 10 ** math.floor(math.log10(rough))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= rough)


def _scale(low: float, high: float):
    def x(value: float) -> float:
        return round(PLOT_LEFT + (value - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT), 1)

    return x


def _number_ticks(high: float, step: float, x) -> tuple[Tick, ...]:
    return tuple(Tick(x(n * step), f"{n * step:g}") for n in range(round(high / step) + 1))


def _row_y(number: int) -> float:
    """Where row ``number``'s bar starts, under its line of text."""
    return TOP + number * ROW_HEIGHT + ROW_HEIGHT - BAR_HEIGHT - 4


def _span(label: str, value: str, number: int, left: float, right: float, open_start=False, open_end=False) -> Bar:
    """The bar of row ``number`` from x ``left`` to ``right``, at least 2 wide so that one age or one day shows."""
    return Bar(label, value, _row_y(number), left, max(right - left, 2), open_start, open_end)


def _years(value: float) -> str:
    return f"{value:g}" if value >= 1 else f"{value * 12:g} months"


def age_chart(trials: Sequence[Trial]) -> Chart:
    """Accepted ages on one axis from 0; a missing limit is open and the bar runs to that end of the axis."""
    limits = [value for trial in trials for value in (trial.min_age_years, trial.max_age_years) if value is not None]
    open_ended = any(trial.max_age_years is None for trial in trials)
    top = max(limits, default=80)
    step = nice_step(top)
    high = (math.floor(top / step) + 1) * step if open_ended or top % step else top
    x = _scale(0, high)
    bars = []
    for number, trial in enumerate(trials):
        low_age, high_age = trial.min_age_years, trial.max_age_years
        if low_age is None and high_age is None:
            bars.append(Bar(trial.registry_id, "no age limits stated", _row_y(number)))
            continue
        start, end = x(low_age or 0), x(high_age if high_age is not None else high)
        if high_age is None:
            value = f"{_years(low_age)} years and over"
        elif low_age is None:
            value = f"up to {_years(high_age)} years"
        else:
            value = f"{_years(low_age)} to {_years(high_age)} years"
        bars.append(_span(trial.registry_id, value, number, start, end, low_age is None, high_age is None))
    return Chart("ages", "Ages accepted (years)", tuple(bars), _number_ticks(high, step, x))


def enrolment_chart(trials: Sequence[Trial]) -> Chart:
    counts = [trial.enrollment for trial in trials if trial.enrollment is not None]
    top = max(counts, default=0) or 10
    step = nice_step(top, 5)
    high = math.ceil(top / step) * step
    x = _scale(0, high)
    bars = []
    for number, trial in enumerate(trials):
        if trial.enrollment is None:
            bars.append(Bar(trial.registry_id, "not stated", _row_y(number)))
            continue
        counted = "actual" if trial.enrollment_actual is not None else "target"
        bars.append(
            _span(trial.registry_id, f"{trial.enrollment:,} ({counted})", number, PLOT_LEFT, x(trial.enrollment))
        )
    return Chart("enrolment", "Enrolment (participants)", tuple(bars), _number_ticks(high, step, x))


def _end_date(trial: Trial) -> tuple[datetime.date | None, str]:
    if trial.completion_date:
        return trial.completion_date, "completion_date"
    return trial.primary_completion_date, "primary_completion_date"


def period_chart(trials: Sequence[Trial], today: datetime.date | None = None) -> Chart:
    """Study periods, start to completion (or primary completion), on one time axis of whole years."""
    today = today or datetime.date.today()
    dates = [d for trial in trials for d in (trial.start_date, _end_date(trial)[0]) if d is not None]
    first_year = min(dates, default=today).year
    last_year = max(dates, default=today).year + 1
    low, high = datetime.date(first_year, 1, 1), datetime.date(last_year, 1, 1)
    scale = _scale(0, (high - low).days)

    def x(day: datetime.date) -> float:
        return scale((day - low).days)

    step = max(1, int(nice_step(last_year - first_year, 8)))
    ticks = tuple(
        Tick(x(datetime.date(year, 1, 1)), str(year)) for year in range(first_year, last_year + 1) if year % step == 0
    )
    bars = []
    for number, trial in enumerate(trials):
        end, end_name = _end_date(trial)
        start = trial.start_date
        if start is None and end is None:
            bars.append(Bar(trial.registry_id, "dates not stated", _row_y(number)))
            continue
        shown = f"{partial_date(trial, 'start_date') or '…'} to {partial_date(trial, end_name) if end else '…'}"
        left, right = x(start) if start else PLOT_LEFT, x(end) if end else PLOT_RIGHT
        bars.append(_span(trial.registry_id, shown, number, left, right, start is None, end is None))
    marker = Tick(x(today), "today") if low <= today <= high else None
    return Chart("periods", "Study periods (start to completion)", tuple(bars), ticks, marker)


def charts(trials: Sequence[Trial], today: datetime.date | None = None) -> tuple[Chart, ...]:
    return age_chart(trials), enrolment_chart(trials), period_chart(trials, today)
