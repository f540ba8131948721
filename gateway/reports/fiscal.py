"""Federal fiscal quarters: the fiscal year starts on 1 October of the previous calendar year.

Quarters are half-open UTC intervals ``[start, end)``: FY2027 Q1 is 2026-10-01T00:00Z up to,
not including, 2027-01-01T00:00Z. A survey created at 23:59:59 UTC on 30 September belongs
to the quarter before. UTC is used, not the agency's local time, because surveys are
stored in UTC and agencies in several time zones report to one performance.gov.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MIN_FISCAL_YEAR = 2000
MAX_FISCAL_YEAR = 2100


@dataclass(frozen=True)
class FiscalQuarter:
    fiscal_year: int
    quarter: int

    def __post_init__(self) -> None:
        if not MIN_FISCAL_YEAR <= self.fiscal_year <= MAX_FISCAL_YEAR:
            raise ValueError(
                f"fiscal_year must be from {MIN_FISCAL_YEAR} to {MAX_FISCAL_YEAR}, "
                f"not {self.fiscal_year}"
            )
        if not 1 <= self.quarter <= 4:
            raise ValueError(f"quarter must be 1, 2, 3 or 4, not {self.quarter}")

    @property
    def start(self) -> datetime:
        """The first instant of the quarter, in UTC."""
        month = 10 + 3 * (self.quarter - 1)
        year = self.fiscal_year - 1
        if month > 12:
            month -= 12
            year += 1
        return datetime(year, month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the quarter, in UTC."""
        if self.quarter == 4:
            return FiscalQuarter(self.fiscal_year + 1, 1).start
        return FiscalQuarter(self.fiscal_year, self.quarter + 1).start

    def __str__(self) -> str:
        return f"FY{self.fiscal_year} Q{self.quarter}"


def fiscal_quarter_of(moment: datetime) -> FiscalQuarter:
    """The fiscal quarter a UTC instant falls in."""
    moment = moment.astimezone(UTC)
    fiscal_year = moment.year + 1 if moment.month >= 10 else moment.year
    quarter = ((moment.month - 10) % 12) // 3 + 1
    return FiscalQuarter(fiscal_year, quarter)
