"""Run the ``user-profiles`` command, also as ``python -m user_profiles_sdk``."""

from __future__ import annotations

import sys

from ._cli import run


def main() -> None:
    """Run the command with the process's arguments and exit with its status."""
    sys.exit(run())


if __name__ == "__main__":
    main()
