#!/usr/bin/env python
"""Bring the user profiles in line with a CSV of the platform's users.

Usage::

    export ANTHROPIC_API_KEY=...
    python examples/sync_users.py users.csv [--dry-run] [--json]

The CSV's header names a column ``external_id``, the platform's own id for each
user; every other column is a metadata key. A cell with a value sets that key,
and an empty cell means the user has no such key, so it is removed from the
profile. Keys that the CSV has no column for are left alone.

The script checks every row before it changes anything. It then reads every
user profile once, and row by row creates the missing profiles and updates the
metadata that differs. Running it again is always safe, after a failure or an
interruption too: each run reads the profiles anew, so a profile made by an
earlier run is found and not made a second time.

Exit status: 0 every row is in line, 1 some rows failed (run again), 2 the input
or the options were refused and nothing changed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    TextIO,
    Tuple,
)

from user_profiles_sdk import Client, UserProfile, UserProfilesError, ValidationError

# The SDK's own checks of its arguments, so that a row is refused up front for
# exactly what `create` and `update` would refuse later.
from user_profiles_sdk import _validation as check

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

ID_COLUMN = "external_id"


class BadInput(Exception):
    """The CSV or the options were refused; nothing was changed."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Row:
    """One user of the CSV.

    Attributes:
        line: Where the row starts in the file, counting from 1.
        external_id: The platform's id for the user.
        metadata: The keys this user has: the row's cells with a value.
        absent: The keys this user has not: the row's empty cells.
    """

    line: int
    external_id: str
    metadata: Dict[str, str]
    absent: Tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """What one row asks of its user profile.

    Attributes:
        row: The row.
        profile: The user profile the row belongs to; None to create one.
        set: Metadata keys to set, with their values.
        remove: Metadata keys to remove.
    """

    row: Row
    profile: Optional[UserProfile]
    set: Dict[str, str] = field(default_factory=dict)
    remove: Tuple[str, ...] = ()

    @property
    def action(self) -> str:
        """Return ``create``, ``update`` or ``unchanged``."""
        if self.profile is None:
            return "create"
        return "update" if self.set or self.remove else "unchanged"


@dataclass(frozen=True)
class Outcome:
    """What became of one row."""

    change: Change
    status: str
    user_profile_id: Optional[str] = None
    error: Optional[str] = None

    def as_json(self) -> Dict[str, object]:
        """Return the outcome as a JSON object."""
        row = self.change.row
        return {
            "line": row.line,
            "external_id": row.external_id,
            "status": self.status,
            "user_profile_id": self.user_profile_id,
            "set": sorted(self.change.set),
            "removed": list(self.change.remove),
            "error": self.error,
        }


# Reading and checking the CSV


def read_rows(path: Path) -> List[Row]:
    """Read and check every row of the CSV.

    Raises:
        BadInput: The file cannot be read, or rows are malformed; it names
            every bad row by its line.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            try:
                columns = _check_header(next(reader, None))
                return _check_rows(_numbered(reader), columns)
            except csv.Error as exc:
                line = reader.line_num
                raise BadInput([f"line {line}: not valid CSV: {exc}"]) from None
    except OSError as exc:
        raise BadInput([f"cannot read {path}: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise BadInput([f"{path} is not UTF-8 text: {exc.reason}"]) from None


def _numbered(reader: Any) -> Iterator[Tuple[int, List[str]]]:
    # A quoted cell may hold line breaks, so a row starts one line after the
    # previous row ended rather than one line after the previous row started.
    start = reader.line_num + 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def _check_header(header: Optional[List[str]]) -> List[str]:
    if header is None:
        raise BadInput([f"line 1: the header is missing; it needs {ID_COLUMN}"])

    problems = []
    if header.count(ID_COLUMN) != 1:
        problems.append(f"line 1: the header needs one {ID_COLUMN} column")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"line 1: columns named twice: {', '.join(repeated)}")
    keys = {name: "" for name in header if name != ID_COLUMN}
    try:
        check.metadata(keys, on_create=False)
    except ValidationError as exc:
        problems.append(f"line 1: a column cannot be a metadata key: {exc}")

    if problems:
        raise BadInput(problems)
    return header


def _check_rows(
    numbered: Iterable[Tuple[int, List[str]]], columns: List[str]
) -> List[Row]:
    rows: List[Row] = []
    problems: List[str] = []
    first_line: Dict[str, int] = {}

    for line, cells in numbered:
        if not cells:
            continue
        try:
            row = _check_row(line, columns, cells)
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if row.external_id in first_line:
            problems.append(
                f"line {line}: {ID_COLUMN} {row.external_id!r} is also on line"
                f" {first_line[row.external_id]}"
            )
            continue
        first_line[row.external_id] = line
        rows.append(row)

    if problems:
        raise BadInput(problems)
    return rows


def _check_row(line: int, columns: List[str], cells: List[str]) -> Row:
    # A short row is refused rather than padded: a missing cell would read as
    # empty, and an empty cell removes a key.
    if len(cells) != len(columns):
        raise ValueError(f"{len(cells)} cells, where the header has {len(columns)}")
    values = dict(zip(columns, cells))
    external_id = values.pop(ID_COLUMN)
    if not external_id:
        raise ValueError(f"{ID_COLUMN} is empty")

    # Both raise ValidationError, which is also a ValueError.
    check.external_id(external_id)
    check.metadata(values, on_create=False)

    metadata = {key: value for key, value in values.items() if value}
    absent = tuple(key for key, value in values.items() if not value)
    return Row(line, external_id, metadata, absent)


# Reading the user profiles and planning


def index_profiles(
    profiles: Iterable[UserProfile], wanted: Iterable[str], err: TextIO
) -> Dict[str, UserProfile]:
    """Map each wanted external id to its user profile.

    External ids are not unique: when several profiles share one, the oldest
    is the user's, and a warning says so.

    Args:
        profiles: Every user profile.
        wanted: The external ids of the CSV; profiles of others are dropped.
        err: Where warnings and progress go.
    """
    external_ids = set(wanted)
    found: Dict[str, List[UserProfile]] = {}
    progress = Progress(err, "read {} user profiles")
    for count, profile in enumerate(profiles, start=1):
        progress.show(count)
        if profile.external_id in external_ids:
            found.setdefault(profile.external_id, []).append(profile)
    progress.clear()

    chosen = {}
    for external_id, sharing in found.items():
        oldest = min(sharing, key=lambda profile: (profile.created_at, profile.id))
        chosen[external_id] = oldest
        if len(sharing) > 1:
            others = ", ".join(p.id for p in sharing if p is not oldest)
            err.write(
                f"warning: {len(sharing)} user profiles have {ID_COLUMN}"
                f" {external_id!r}; using the oldest, {oldest.id}, and leaving"
                f" {others} alone\n"
            )
    return chosen


def plan(row: Row, profile: Optional[UserProfile]) -> Change:
    """Work out what a row asks of its user profile, None if it has none."""
    if profile is None:
        return Change(row, None)
    stored = profile.metadata
    changed = {k: v for k, v in row.metadata.items() if stored.get(k) != v}
    gone = tuple(key for key in row.absent if key in stored)
    return Change(row, profile, changed, gone)


# Applying


def apply(client: Client, change: Change) -> Outcome:
    """Make one change, and say how it went rather than raise."""
    row, profile = change.row, change.profile
    profiles = client.user_profiles
    try:
        if profile is None:
            made = profiles.create(external_id=row.external_id, metadata=row.metadata)
            return Outcome(change, "created", made.id)
        if change.action == "update":
            profiles.update(
                profile.id,
                metadata=change.set or None,
                remove_metadata=change.remove or None,
            )
            return Outcome(change, "updated", profile.id)
        return Outcome(change, "unchanged", profile.id)
    except UserProfilesError as exc:
        # When a create fails after it was sent, the error says the profile
        # may exist all the same; the next run reads the profiles and finds it.
        profile_id = None if profile is None else profile.id
        return Outcome(change, "failed", profile_id, " ".join(str(exc).split()))


def rehearse(change: Change) -> Outcome:
    """Say what `apply` would do, for a dry run."""
    profile_id = None if change.profile is None else change.profile.id
    return Outcome(change, change.action, profile_id)


class Progress:
    """Rewrite one status line on a terminal; write nothing anywhere else."""

    def __init__(self, stream: TextIO, template: str) -> None:
        self._stream = stream
        self._template = template
        self._live = stream.isatty()

    def show(self, *values: object) -> None:
        """Replace the status line with the template filled with `values`."""
        if self._live:
            self._stream.write("\r" + self._template.format(*values) + "\x1b[K")
            self._stream.flush()

    def clear(self) -> None:
        """Blank the status line, before other output takes its place."""
        if self._live:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


# Reporting


class Report:
    """Tell what became of each row, and sum it up at the end.

    Args:
        out: Where the lines of changed rows, the summary and JSON go.
        err: Where failures and advice go.
        dry_run: Whether the outcomes are only planned.
        as_json: Whether to end with a JSON report on `out`, in place of the
            lines of changed rows; the summary line then goes to `err`.
    """

    def __init__(self, out: TextIO, err: TextIO, dry_run: bool, as_json: bool) -> None:
        self.out, self.err = out, err
        self.dry_run, self.as_json = dry_run, as_json
        self.outcomes: List[Outcome] = []

    def add(self, outcome: Outcome) -> None:
        """Record one outcome, and print a line unless the row is unchanged."""
        self.outcomes.append(outcome)
        row = outcome.change.row
        if outcome.status == "failed":
            action = f"{outcome.change.action} {row.external_id}"
            self.err.write(f"line {row.line}: {action} failed: {outcome.error}\n")
        elif outcome.status != "unchanged" and not self.as_json:
            self.out.write(self._describe(outcome) + "\n")

    def _describe(self, outcome: Outcome) -> str:
        verb = f"would {outcome.status}" if self.dry_run else outcome.status
        text = f"{verb} {outcome.change.row.external_id}"
        if outcome.user_profile_id:
            text += f" ({outcome.user_profile_id})"
        changed = [f"set {key}" for key in sorted(outcome.change.set)]
        changed += [f"removed {key}" for key in outcome.change.remove]
        return f"{text}: {', '.join(changed)}" if changed else text

    def counts(self) -> Dict[str, int]:
        """Count the outcomes by status."""
        names = _PLANNED if self.dry_run else _DONE
        tally = dict.fromkeys(names, 0)
        for outcome in self.outcomes:
            tally[outcome.status] += 1
        return tally

    def finish(self, total: int, interrupted: bool) -> int:
        """Print the summary line, the JSON report and advice; return the status."""
        tally = self.counts()
        line = ", ".join(f"{status} {count}" for status, count in tally.items())
        line = f"{line} (of {total} rows)"
        if self.dry_run:
            line = f"dry run, nothing changed: {line}"
        if interrupted:
            line = f"interrupted: {line}"

        if self.as_json:
            self._dump(tally, interrupted)
        (self.err if self.as_json else self.out).write(line + "\n")
        hint = advice(tally.get("failed", 0), interrupted)
        if hint:
            self.err.write(hint + "\n")

        if interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if tally.get("failed") else EXIT_OK

    def _dump(self, tally: Dict[str, int], interrupted: bool) -> None:
        report = {
            "dry_run": self.dry_run,
            "interrupted": interrupted,
            "counts": tally,
            "rows": [outcome.as_json() for outcome in self.outcomes],
        }
        json.dump(report, self.out, indent=2)
        self.out.write("\n")


_DONE = ("created", "updated", "unchanged", "failed")
_PLANNED = ("create", "update", "unchanged")


def advice(failed: int, interrupted: bool) -> Optional[str]:
    """Return what to do next when rows were left undone, else None."""
    if not failed and not interrupted:
        return None
    if failed:
        rows = "1 row" if failed == 1 else f"{failed} rows"
        first = f"{rows} failed. Run this command again to retry them"
    else:
        first = "Run this command again to finish"
    return (
        f"{first}: it reads the user profiles anew, so a profile that a failed"
        " or interrupted create made anyway is found, not made twice."
    )


# The command


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        description="Create and update user profiles to match a CSV of users.",
        epilog="exit status: 0 done, 1 some rows failed (run again), 2 bad input"
        " and nothing changed, 130 interrupted",
    )
    parser.add_argument(
        "csv", type=Path, help=f"the users: a column {ID_COLUMN}, then metadata"
    )
    parser.add_argument(
        "--api-key", help="the API key; defaults to ANTHROPIC_API_KEY, which is safer"
    )
    parser.add_argument(
        "--base-url", help="the API's URL; defaults to ANTHROPIC_BASE_URL"
    )
    parser.add_argument(
        "--max-retries", type=int, help="retries of a failed call (default 2)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would change; change nothing"
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON report on stdout"
    )
    return parser.parse_args(argv)


def make_client(args: argparse.Namespace) -> Client:
    """Make the client from the options and the environment.

    Raises:
        BadInput: The key is missing, or an option is malformed.
    """
    options = {} if args.max_retries is None else {"max_retries": args.max_retries}
    try:
        return Client(args.api_key, base_url=args.base_url, **options)
    except ValidationError as exc:
        raise BadInput([str(exc)]) from None


def sync(client: Client, rows: List[Row], report: Report) -> bool:
    """Read the user profiles, then bring each row's profile in line.

    Returns:
        Whether an interrupt stopped the run before the last row.

    Raises:
        UserProfilesError: The user profiles could not be read; nothing
            was changed.
    """
    found = index_profiles(
        client.user_profiles.list_all(limit=100),
        (row.external_id for row in rows),
        report.err,
    )
    changes = [plan(row, found.get(row.external_id)) for row in rows]

    progress = Progress(report.err, "row {} of {}")
    try:
        for number, change in enumerate(changes, start=1):
            progress.show(number, len(changes))
            outcome = rehearse(change) if report.dry_run else apply(client, change)
            progress.clear()
            report.add(outcome)
    except KeyboardInterrupt:
        return True
    finally:
        progress.clear()
    return False


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the script and return its exit status."""
    args = parse_args(argv)
    report = Report(sys.stdout, sys.stderr, args.dry_run, args.json)
    try:
        rows = read_rows(args.csv)
        client = make_client(args)
    except BadInput as exc:
        for problem in exc.problems:
            report.err.write(f"error: {problem}\n")
        report.err.write("Nothing was changed.\n")
        return EXIT_BAD_INPUT

    with client:
        try:
            interrupted = sync(client, rows, report)
        except UserProfilesError as exc:
            report.err.write(f"error: cannot read the user profiles: {exc}\n")
            report.err.write("Nothing was changed.\n")
            return EXIT_FAILED
        except KeyboardInterrupt:
            report.err.write("Interrupted while reading; nothing was changed.\n")
            return EXIT_INTERRUPTED

    return report.finish(len(rows), interrupted)


if __name__ == "__main__":
    sys.exit(main())
