#!/usr/bin/env python
"""Run Django's commands for the example, such as ``runserver``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The project package, django_app, and the shared web_errors module both live
# in the examples folder, one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    """Run the Django command named on the command line."""
    from django.core.management import execute_from_command_line

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
