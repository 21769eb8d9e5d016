"""Measure what the SDK adds to a bare HTTP exchange, as ratios against raw clients.

Usage::

    python benchmarks/run.py            # steady figures in about a minute
    python benchmarks/run.py --quick    # rough figures in about ten seconds

A loopback server in a separate process (``_server.py``) answers fixed bodies.
This process then times, interleaved over rounds so that noise falls on every
contender alike, the median cost of one call made through urllib3 with
``json.loads``, through a plain ``requests.Session`` with ``json.loads``, and
through the SDK, for each endpoint shape. It also times the import of the
package against that of requests in fresh interpreters, and `list_all` over a
pager of 100,000 profiles against raw paging, with the memory that walk takes.
The figures depend on the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

# Beside this script, which Python puts first on sys.path.
import _memory
import _server
import requests
import urllib3

from user_profiles_sdk import Client

HERE = os.path.dirname(os.path.abspath(__file__))

API_KEY = "sk-ant-bench"
EXTERNAL_ID = "user_12345"
METADATA = {"plan": "pro"}
CREATE_BODY = {"external_id": EXTERNAL_ID, "metadata": METADATA}

# The headers the SDK sends but its user agent, so that every contender asks
# the same of the server.
HEADERS = {
    "x-api-key": API_KEY,
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "user-profiles-2026-03-24",
    "accept": "application/json",
}
JSON_HEADERS = {**HEADERS, "content-type": "application/json"}

OPERATIONS = ("get", "list 20", "list 100", "create")
CONTENDERS = ("urllib3", "requests", "sdk")

Call = Callable[[], object]


class Settings:
    """How much to measure, from the command line."""

    def __init__(self, args: argparse.Namespace) -> None:
        quick = args.quick
        self.rounds: int = args.rounds or (5 if quick else 40)
        self.batch: int = args.batch or (40 if quick else 100)
        self.imports: int = args.imports or (5 if quick else 15)
        self.pager_rounds: int = args.pager_rounds or (1 if quick else 5)
        self.profiles: int = args.profiles


def parse_args(argv: Optional[Sequence[str]]) -> Settings:
    """Read the options; zero or absent means the mode's default."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a run of seconds")
    parser.add_argument("--rounds", type=int, default=0, help="rounds of calls")
    parser.add_argument("--batch", type=int, default=0, help="calls per round")
    parser.add_argument("--imports", type=int, default=0, help="import runs each")
    parser.add_argument(
        "--pager-rounds", type=int, default=0, help="list_all walks each"
    )
    parser.add_argument(
        "--profiles", type=int, default=100_000, help="profiles the pager serves"
    )
    args = parser.parse_args(argv)
    if args.profiles <= 0 or args.profiles % _server.PAGE_SIZE:
        parser.error(f"--profiles must be a positive multiple of {_server.PAGE_SIZE}")
    return Settings(args)


class Server:
    """The loopback server, started as a child process for a `with` block."""

    def __enter__(self) -> str:
        script = os.path.join(HERE, "_server.py")
        self._process = subprocess.Popen(
            [sys.executable, script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("listening on "):
            self._process.kill()
            raise SystemExit(f"the benchmark server did not start: {line!r}")
        return line.split()[-1]

    def __exit__(self, *exc_info: object) -> None:
        self._process.kill()
        self._process.wait()


def raw_calls(url: str) -> Dict[Tuple[str, str], Call]:
    """Return the calls of urllib3 and of plain requests, both with json.loads."""
    pool = urllib3.PoolManager()
    session = requests.Session()
    one = f"{url}/v1/user_profiles/{_server.PROFILE_ID}"
    lists = f"{url}/v1/user_profiles?limit="
    create = f"{url}/v1/user_profiles"

    def pool_get(target: str) -> Call:
        return lambda: json.loads(pool.request("GET", target, headers=HEADERS).data)

    def session_get(target: str) -> Call:
        return lambda: json.loads(session.get(target, headers=HEADERS).content)

    def pool_create() -> object:
        body = json.dumps(CREATE_BODY).encode()
        answer = pool.request("POST", create, body=body, headers=JSON_HEADERS)
        return json.loads(answer.data)

    def session_create() -> object:
        body = json.dumps(CREATE_BODY).encode()
        return json.loads(session.post(create, data=body, headers=JSON_HEADERS).content)

    return {
        ("get", "urllib3"): pool_get(one),
        ("get", "requests"): session_get(one),
        ("list 20", "urllib3"): pool_get(lists + "20"),
        ("list 20", "requests"): session_get(lists + "20"),
        ("list 100", "urllib3"): pool_get(lists + "100"),
        ("list 100", "requests"): session_get(lists + "100"),
        ("create", "urllib3"): pool_create,
        ("create", "requests"): session_create,
    }


def sdk_calls(client: Client) -> Dict[Tuple[str, str], Call]:
    """Return the SDK's calls for every operation."""
    profiles = client.user_profiles
    return {
        ("get", "sdk"): lambda: profiles.get(_server.PROFILE_ID),
        ("list 20", "sdk"): lambda: profiles.list(limit=20),
        ("list 100", "sdk"): lambda: profiles.list(limit=100),
        ("create", "sdk"): lambda: profiles.create(
            external_id=EXTERNAL_ID, metadata=METADATA
        ),
    }


def rotations(items: List[Any], rounds: int) -> Iterator[List[Any]]:
    """Yield the items once a round, each round starting one further along."""
    for number in range(rounds):
        shift = number % len(items)
        yield items[shift:] + items[:shift]


def time_calls(
    calls: Dict[Tuple[str, str], Call], settings: Settings
) -> Dict[Tuple[str, str], float]:
    """Return the median over rounds of the mean seconds per call, for each call."""
    for call in calls.values():
        for _ in range(5):
            call()

    samples: Dict[Tuple[str, str], List[float]] = {key: [] for key in calls}
    for order in rotations(list(calls.items()), settings.rounds):
        for key, call in order:
            started = time.perf_counter()
            for _ in range(settings.batch):
                call()
            samples[key].append((time.perf_counter() - started) / settings.batch)
    return {key: statistics.median(values) for key, values in samples.items()}


def import_seconds(module: str, env: Dict[str, str]) -> float:
    """Return how long a fresh interpreter takes to import `module`."""
    code = (
        "import time; started = time.perf_counter(); import "
        f"{module}; print(time.perf_counter() - started)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(done.stdout)


def time_imports(settings: Settings) -> Dict[str, float]:
    """Return the median import time of requests and of the SDK, alternated.

    Both import from bytecode cached in a temporary folder, as they would
    after an install: without it, an editable checkout under
    ``PYTHONDONTWRITEBYTECODE`` would compile the SDK on every run and
    measure the compiler.
    """
    modules = ("requests", "user_profiles_sdk")
    samples: Dict[str, List[float]] = {module: [] for module in modules}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for module in modules:
            import_seconds(module, env)
        for order in rotations(list(modules), settings.imports):
            for module in order:
                samples[module].append(import_seconds(module, env))
    return {module: statistics.median(values) for module, values in samples.items()}


def raw_walk(fetch: Callable[[str], bytes], base_url: str) -> int:
    """Follow the pager's cursors with `fetch` and json.loads; count profiles."""
    count = 0
    cursor = None
    while True:
        query = "limit=100" if cursor is None else f"limit=100&page={cursor}"
        page = json.loads(fetch(f"{base_url}/v1/user_profiles?{query}"))
        for _ in page["data"]:
            count += 1
        cursor = page["next_page"]
        if cursor is None:
            return count


def time_paging(client: Client, base_url: str, settings: Settings) -> Dict[str, float]:
    """Return the median profiles per second of raw paging and of `list_all`."""
    pool = urllib3.PoolManager()
    session = requests.Session()
    walks: Dict[str, Callable[[], int]] = {
        "urllib3": lambda: raw_walk(
            lambda url: pool.request("GET", url, headers=HEADERS).data, base_url
        ),
        "requests": lambda: raw_walk(
            lambda url: session.get(url, headers=HEADERS).content, base_url
        ),
        "sdk": lambda: _memory.walk(client),
    }
    rates: Dict[str, List[float]] = {name: [] for name in walks}
    for order in rotations(list(walks.items()), settings.pager_rounds):
        for name, walk_all in order:
            started = time.perf_counter()
            count = walk_all()
            elapsed = time.perf_counter() - started
            if count != settings.profiles:
                raise SystemExit(f"{name} walked {count} profiles, not all")
            rates[name].append(count / elapsed)
    return {name: statistics.median(values) for name, values in rates.items()}


def measure_memory(base_url: str) -> Dict[str, Any]:
    """Return the RSS growth and traced peak of `list_all`, from a fresh process."""
    script = os.path.join(HERE, "_memory.py")
    done = subprocess.run(
        [sys.executable, script, base_url], capture_output=True, text=True, check=True
    )
    report: Dict[str, Any] = json.loads(done.stdout)
    return report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.3f} ms"


def _target(value: float, bound: float, unit: str = "", at_least: bool = False) -> str:
    met = value >= bound if at_least else value <= bound
    sign = ">=" if at_least else "<="
    return f"target {sign} {bound:g}{unit} {'met' if met else 'MISSED'}"


CALL_TARGETS = {
    ("get", "urllib3"): 1.5,
    ("get", "requests"): 0.9,
    ("list 20", "urllib3"): 1.6,
    ("list 100", "urllib3"): 1.8,
}


def print_calls(medians: Dict[Tuple[str, str], float]) -> None:
    """Print the per-call medians and the SDK's ratios against both raw clients."""
    print(
        f"{'call':<10}{'urllib3':>12}{'requests':>12}{'sdk':>12}"
        f"{'sdk/urllib3':>13}{'sdk/requests':>14}  targets"
    )
    for operation in OPERATIONS:
        times = {name: medians[operation, name] for name in CONTENDERS}
        ratios = {name: times["sdk"] / times[name] for name in CONTENDERS[:2]}
        goals = [
            f"/{name} {_target(ratios[name], CALL_TARGETS[operation, name])}"
            for name in ratios
            if (operation, name) in CALL_TARGETS
        ]
        print(
            f"{operation:<10}{''.join(_ms(times[name]) for name in CONTENDERS)}"
            f"{ratios['urllib3']:>13.2f}{ratios['requests']:>14.2f}"
            f"  {', '.join(goals) or '-'}"
        )


def print_rest(
    settings: Settings,
    imports: Dict[str, float],
    rates: Dict[str, float],
    memory: Dict[str, Any],
) -> None:
    """Print the import times, the paging rates and the memory of `list_all`."""
    ratio = imports["user_profiles_sdk"] / imports["requests"]
    print(
        f"\nimport    requests {imports['requests'] * 1000:.1f} ms,"
        f" user_profiles_sdk {imports['user_profiles_sdk'] * 1000:.1f} ms"
        f" (median of {settings.imports} fresh interpreters each, bytecode"
        f" cached): ratio {ratio:.2f}, {_target(ratio, 1.5)}"
    )
    share = rates["sdk"] / rates["urllib3"]
    print(
        f"list_all  raw paging with urllib3 {rates['urllib3']:,.0f} profiles/s,"
        f" with plain requests {rates['requests']:,.0f} profiles/s; list_all"
        f" {rates['sdk']:,.0f} profiles/s (median of {settings.pager_rounds}"
        f" walks of {settings.profiles:,}): {share:.0%} of urllib3's rate,"
        f" {_target(round(share * 100), 90, '%', at_least=True)};"
        f" {rates['sdk'] / rates['requests']:.0%} of plain requests' rate"
    )
    rss, traced = memory["rss_bytes"] / 1e6, memory["traced_bytes"] / 1e6
    since = "start of the walk" if memory["rss_reset"] else "earlier peak"
    print(
        f"memory    list_all over {memory['profiles']:,} profiles: peak RSS"
        f" {rss:.1f} MB over the {since}, tracemalloc peak {traced:.1f} MB:"
        f" {_target(round(max(rss, traced), 1), 20, ' MB')}"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run every measurement and print the table."""
    settings = parse_args(argv)
    started = time.perf_counter()

    with Server() as url:
        client = Client(api_key=API_KEY, base_url=url)
        medians = time_calls({**raw_calls(url), **sdk_calls(client)}, settings)
        pager = f"{url}/pager/{settings.profiles}"
        pager_client = Client(api_key=API_KEY, base_url=pager)
        rates = time_paging(pager_client, pager, settings)
        memory = measure_memory(pager)
    imports = time_imports(settings)

    print(
        f"Python {sys.version.split()[0]}, requests {version('requests')},"
        f" urllib3 {version('urllib3')}. Each call: the median over"
        f" {settings.rounds} interleaved rounds of the mean of {settings.batch}"
        " calls.\n"
    )
    print_calls(medians)
    print_rest(settings, imports, rates, memory)
    print(f"\n(measured in {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
