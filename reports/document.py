"""A report as plain data — sections of tables and charts with footnotes — that every
renderer (HTML, CSV, XLSX, PDF) draws the same way, plus the number formats people read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Cell = str | int | float | None


Drill = dict[str, str]  # how a figure's filter differs from the report's (query parameters)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    # Drill-down on pages: a column's figures link to the calls they count (column label →
    # call kind, ``reports.call_list.CallKind``), each row with its own scope (row index →
    # parameters); rows without a scope have no links.
    drill_columns: dict[str, str] = field(default_factory=dict)
    drill_rows: dict[int, Drill] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    """A headline figure shown large above a report's sections, linked to its calls."""

    label: str
    value: str
    drill: Drill | None = None  # parameters of its call list, with "kind"


@dataclass
class Chart:
    title: str
    labels: list[str]
    series: dict[str, list[float]]
    kind: Literal["bar", "line"] = "bar"
    unit: str = ""


@dataclass
class Section:
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportDocument:
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    headline: list[Figure] = field(default_factory=list)

    def table(self, title: str) -> Table:
        """The table with this title (tests and exports look tables up by title)."""
        for section in self.sections:
            for table in section.tables:
                if table.title == title:
                    return table
        raise KeyError(title)


DASH = "—"


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def secs(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def wait_edge(value: int | None) -> str:
    if value is None:
        return DASH
    return ">600" if value < 0 else f"≤{value}"


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


def megabytes(size: float) -> str:
    return f"{size / 1_000_000:.1f}"
