"""Measure how much memory `list_all` takes over a whole pager, in a fresh process.

Run as ``python _memory.py BASE_URL``, it walks every profile once with nothing
else watching to take the growth of peak RSS, then once more under tracemalloc
to take the peak of Python allocations, and prints both as one JSON object:
``{"rss_bytes": ..., "traced_bytes": ..., "profiles": ..., "rss_reset": ...}``.
On Linux the peak RSS is reset just before the walk, so the growth is the
walk's own; elsewhere it is the growth over the process's earlier peak, which
can hide growth below that peak (``rss_reset`` is then false).
"""

from __future__ import annotations

import json
import resource
import sys
import tracemalloc

from user_profiles_sdk import Client

# ru_maxrss counts kibibytes on Linux and bytes on macOS.
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as control:
            control.write("5")
    except OSError:
        return False
    return True


def walk(client: Client) -> int:
    """Consume every profile without keeping any; return how many there were."""
    count = 0
    for _ in client.user_profiles.list_all(limit=100):
        count += 1
    return count


def main(base_url: str) -> None:
    """Print the RSS growth and the traced peak of one walk each."""
    with Client(api_key="sk-ant-bench", base_url=base_url) as client:
        client.user_profiles.list(limit=100)

        reset = _reset_peak_rss()
        before = _peak_rss()
        count = walk(client)
        rss = _peak_rss() - before

        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        walk(client)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    report = {
        "rss_bytes": rss,
        "traced_bytes": peak - start,
        "profiles": count,
        "rss_reset": reset,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
