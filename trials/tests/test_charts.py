import datetime
from types import SimpleNamespace

import pytest

from trials import charts


def trial(registry_id, **values):
    fields = {
        "min_age_years": None,
        "max_age_years": None,
        "enrollment": None,
        "enrollment_actual": None,
        "start_date": None,
        "start_date_precision": "day",
        "completion_date": None,
        "completion_date_precision": "day",
        "primary_completion_date": None,
        "primary_completion_date_precision": "day",
    }
    return SimpleNamespace(registry_id=registry_id, **{**fields, **values})


@pytest.mark.parametrize(("span", "step"), [(60, 10), (65, 20), (12, 2), (300, 50), (3, 0.5), (0, 1)])
def test_nice_steps_are_one_two_or_five_times_a_power_of_ten(span, step):
    assert charts.nice_step(span) == step


def test_age_bars_share_one_axis_and_an_open_limit_runs_to_its_end():
    chart = charts.age_chart([trial("A", min_age_years=18, max_age_years=60), trial("B", min_age_years=20), trial("C")])
    a, b, c = chart.bars
    assert [tick.label for tick in chart.ticks] == ["0", "10", "20", "30", "40", "50", "60", "70"]
    assert a.value == "18 to 60 years" and b.value == "20 years and over" and c.value == "no age limits stated"
    assert b.open_end and b.end == charts.PLOT_RIGHT
    assert a.x == pytest.approx(charts.PLOT_LEFT + 18 / 70 * (charts.PLOT_RIGHT - charts.PLOT_LEFT), abs=0.1)
    assert not c.drawn
    assert chart.description == "A: 18 to 60 years; B: 20 years and over; C: no age limits stated"


def test_enrolment_bars_start_at_zero():
    chart = charts.enrolment_chart([trial("A", enrollment=36), trial("B", enrollment=30, enrollment_actual=30)])
    assert chart.ticks[-1].label == "40"
    assert [bar.value for bar in chart.bars] == ["36 (target)", "30 (actual)"]
    assert all(bar.x == charts.PLOT_LEFT for bar in chart.bars)
    assert chart.bars[0].width > chart.bars[1].width


def test_study_periods_sit_on_one_time_axis_of_whole_years():
    day = datetime.date
    chart = charts.period_chart(
        [
            trial("A", start_date=day(2026, 1, 1), completion_date=day(2026, 12, 31)),
            trial("B", start_date=day(2025, 7, 30), primary_completion_date=day(2028, 12, 31)),
            trial("C", start_date=day(2025, 1, 1), start_date_precision="month"),
        ],
        today=day(2026, 11, 23),
    )
    assert [tick.label for tick in chart.ticks] == ["2025", "2026", "2027", "2028", "2029"]
    a, b, c = chart.bars
    assert a.value == "2026-01-01 to 2026-12-31" and b.value == "2025-07-30 to 2028-12-31"
    assert c.value == "2025-01 to …" and c.open_end and c.end == charts.PLOT_RIGHT
    assert b.x < a.x < a.end < b.end
    assert chart.marker.label == "today" and a.x < chart.marker.x < a.end
