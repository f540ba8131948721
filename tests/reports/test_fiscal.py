"""Federal fiscal quarters: FY2027 Q1 is October to December 2026, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.reports.fiscal import FiscalQuarter, fiscal_quarter_of


def test_fy2027_q1_runs_from_october_first_2026_to_january_first_2027() -> None:
    quarter = FiscalQuarter(2027, 1)
    assert quarter.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert quarter.end == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("quarter", "start", "end"),
    [
        (2, datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)),
        (3, datetime(2027, 4, 1, tzinfo=UTC), datetime(2027, 7, 1, tzinfo=UTC)),
        (4, datetime(2027, 7, 1, tzinfo=UTC), datetime(2027, 10, 1, tzinfo=UTC)),
    ],
)
def test_each_later_quarter_follows_the_one_before(
    quarter: int, start: datetime, end: datetime
) -> None:
    assert (FiscalQuarter(2027, quarter).start, FiscalQuarter(2027, quarter).end) == (start, end)


def test_the_last_second_of_september_is_in_the_previous_fiscal_year() -> None:
    assert fiscal_quarter_of(datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC)) == FiscalQuarter(
        2026, 4
    )
    assert fiscal_quarter_of(datetime(2026, 10, 1, tzinfo=UTC)) == FiscalQuarter(2027, 1)


def test_a_local_time_is_placed_by_its_utc_instant() -> None:
    eastern = timezone(timedelta(hours=-4))
    # 30 September, 21:00 in Washington is already 1 October in UTC.
    assert fiscal_quarter_of(datetime(2026, 9, 30, 21, tzinfo=eastern)) == FiscalQuarter(2027, 1)


@pytest.mark.parametrize(("year", "quarter"), [(2027, 0), (2027, 5), (1999, 1), (2101, 1)])
def test_an_impossible_quarter_is_refused(year: int, quarter: int) -> None:
    with pytest.raises(ValueError):
        FiscalQuarter(year, quarter)
