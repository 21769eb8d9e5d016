"""The benchmark script runs end to end and prints every figure it promises.

Only the shape of the output is checked: timings on a shared machine are too
noisy to assert on.
"""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"

# The least the script can do and still reach every line of its table.
SMALLEST_RUN = [
    "--quick",
    "--rounds=2",
    "--batch=3",
    "--imports=1",
    "--pager-rounds=1",
    "--profiles=1000",
]

CALL_ROW = r"\s+(\d+\.\d{3} ms\s+){3}\d+\.\d\d\s+\d+\.\d\d\s"
FIGURES = [
    r"^get" + CALL_ROW,
    r"^list 20" + CALL_ROW,
    r"^list 100" + CALL_ROW,
    r"^create" + CALL_ROW,
    r"^import\s+requests \d+\.\d ms, user_profiles_sdk \d+\.\d ms .*ratio \d\.\d\d",
    r"^list_all\s+raw paging with urllib3 [\d,]+ profiles/s, with plain requests"
    r" [\d,]+ profiles/s; list_all [\d,]+ profiles/s .*: \d+% of urllib3's rate,"
    r" .*; \d+% of plain requests' rate",
    r"^memory\s+list_all over 1,000 profiles: peak RSS \d+\.\d MB .*"
    r"tracemalloc peak \d+\.\d MB",
]


def test_benchmark_runs_and_prints_every_figure():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *SMALLEST_RUN],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    missing = [
        figure for figure in FIGURES if not re.search(figure, done.stdout, re.MULTILINE)
    ]
    assert not missing, f"not printed: {missing}\n{done.stdout}"
