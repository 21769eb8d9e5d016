"""Run the reliability tests once and print the figures they recorded, as Markdown.

Run it from the repository root::

    python tests/reliability_report.py [more pytest arguments]

The tests note what they saw with pytest's ``record_property``: the faults
tried and how each ended, the load held, the inputs the property tests tried,
and the writes lost or made twice. This script collects those notes from the
test reports and prints the tables that docs/RELIABILITY.md holds. It exits
with pytest's own status, so a failing test fails the report too.
"""

from __future__ import annotations

import platform
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

TESTS = Path(__file__).resolve().parent


class Figures:
    """A pytest plugin that keeps the notes of every test and the outcomes."""

    def __init__(self) -> None:
        self.notes: List[Tuple[str, Dict[str, Any]]] = []
        self.outcomes: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count outcomes, and keep the notes once the test has torn down."""
        if report.when == "call" or report.failed:
            self.outcomes[report.outcome] += 1
        if report.when == "teardown":
            self.notes.append((report.nodeid, dict(report.user_properties)))


def _table(header: List[str], rows: List[List[Any]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _faults(notes: List[Dict[str, Any]]) -> List[str]:
    # Endpoints that ended alike share a row, so the table stays readable.
    groups: Dict[Tuple[str, str, str], List[str]] = {}
    tried = 0
    for note in notes:
        if "fault" not in note:
            continue
        tried += 1
        key = (note["fault"], str(note["attempts"]), note["outcome"])
        groups.setdefault(key, []).append(note["endpoint"])
    rows = [
        [fault, ", ".join(endpoints), attempts, outcome]
        for (fault, attempts, outcome), endpoints in groups.items()
    ]
    header = ["fault", "endpoint", "attempts seen by the server", "outcome"]
    return [
        f"{tried} fault cases, {len(rows)} distinct endings.",
        "",
        *_table(header, rows),
    ]


def _properties(notes: List[Tuple[str, Dict[str, Any]]]) -> List[str]:
    rows = [
        [nodeid.split("::")[-1], note["examples"], note["outcomes"]]
        for nodeid, note in notes
        if "examples" in note
    ]
    total = sum(row[1] for row in rows)
    header = ["property", "inputs tried", "how they ended"]
    return [f"{total} generated inputs in all.", "", *_table(header, rows)]


def _figures(notes: List[Dict[str, Any]], key: str) -> List[str]:
    rows = [
        [name, value] for note in notes for name, value in note.get(key, {}).items()
    ]
    return _table(["figure", "value"], rows)


def _writes(notes: List[Dict[str, Any]]) -> List[str]:
    totals = Counter()
    for note in notes:
        for name in ("writes_checked", "writes_lost", "writes_duplicated"):
            totals[name] += int(note.get(name, 0))
    rows = [
        [
            totals["writes_checked"],
            totals["writes_lost"],
            totals["writes_duplicated"],
        ]
    ]
    return _table(["writes checked", "lost", "duplicated"], rows)


def render(figures: Figures, seconds: float) -> str:
    """Return the Markdown report of one run."""
    notes = [note for _, note in figures.notes]
    outcomes = ", ".join(f"{n} {what}" for what, n in sorted(figures.outcomes.items()))
    lines = [
        f"Run: {outcomes} in {seconds:.1f} s, Python {platform.python_version()}"
        f" on {platform.system()}.",
        "",
        "### Faults",
        "",
        *_faults(notes),
        "",
        "### Load",
        "",
        *_figures(notes, "load"),
        "",
        "### Process model",
        "",
        *_figures(notes, "fork"),
        "",
        "### Secrets",
        "",
        *_figures(notes, "secrets"),
        "",
        "### Hostile input",
        "",
        *_properties(figures.notes),
        "",
        "### Writes lost or duplicated",
        "",
        *_writes(notes),
    ]
    return "\n".join(lines) + "\n"


def main(argv: List[str]) -> int:
    """Run the reliability tests, print the report, and return pytest's status."""
    figures = Figures()
    files = sorted(str(path) for path in TESTS.glob("test_reliability_*.py"))
    started = time.perf_counter()
    status = pytest.main(["-q", "-p", "no:cacheprovider", *files, *argv], [figures])
    print()
    print(render(figures, time.perf_counter() - started))
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
