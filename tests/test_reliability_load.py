"""One client under load from many threads, and across a fork, over loopback."""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections import Counter

import pytest
from reliability_support import make_client

import user_profiles_sdk
from user_profiles_sdk.testing import EmulatorServer, FakeUserProfiles

THREADS = 16
CALLS = 25
COLLECTION = "/v1/user_profiles"


class AimedFaults(FakeUserProfiles):
    """The fake, failing every third fresh request in a way its call recovers from.

    Creates only meet 429 and 529, which prove the request was not processed;
    reads also meet 503 and dropped connections, and updates and enrollment
    URLs 503. A request identical to one just failed is the retry of that
    call and always passes, so no call meets more than one fault; the load
    below keeps every thread's requests distinct from the other threads'.
    """

    def __init__(self) -> None:
        super().__init__()
        self.injected: Counter[str] = Counter()
        self._aim = threading.Lock()
        self._arrivals = 0
        self._failed: set = set()

    def handle(self, method, target, headers, body=b"", *, wait=None):
        content = body() if callable(body) else body
        signature = (method, target, content)

        # The fault queue serves whichever request comes next, so choosing a
        # fault and taking it must not interleave with another request.
        with self._aim:
            self._arrivals += 1
            if signature in self._failed:
                self._failed.discard(signature)
            elif self._arrivals % 3 == 0:
                self._failed.add(signature)
                self._inject(method, target)
            return super().handle(method, target, headers, content, wait=wait)

    def _inject(self, method, target):
        if method == "POST" and target == COLLECTION:
            kinds = ("429", "529")
        elif method == "GET":
            kinds = ("429", "503", "drop")
        else:
            kinds = ("429", "503")
        kind = kinds[self._arrivals // 3 % len(kinds)]
        if kind == "drop":
            self.drop_next()
        else:
            headers = {} if kind == "503" else {"retry-after": "0"}
            self.fail_next(int(kind), headers=headers)
        if method == "GET":
            endpoint = "reads"
        elif target == COLLECTION:
            endpoint = "creates"
        else:
            endpoint = "updates and enrollment URLs"
        self.injected[f"{kind} on {endpoint}"] += 1


def run_threads(count, work):
    """Run `work(index)` on `count` threads started together; return the errors."""
    errors = []
    start = threading.Barrier(count)

    def run(index):
        try:
            start.wait(timeout=10)
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def mixed_calls(client, index):
    """Make CALLS calls of every endpoint, distinct from any other thread's.

    Returns:
        The external ids created and the metadata set on the thread's profile.
    """
    profiles = client.user_profiles
    own = profiles.create(external_id=f"t{index}-c0")
    created, updates = [own.external_id], {}
    for step in range(1, CALLS):
        kind = step % 5
        if kind == 0:
            created.append(profiles.create(external_id=f"t{index}-c{step}").external_id)
        elif kind == 1:
            assert profiles.get(own.id).id == own.id
        elif kind == 2:
            updates[f"u{step}"] = str(step)
            profiles.update(own.id, metadata={f"u{step}": str(step)})
        elif kind == 3:
            assert len(profiles.list(limit=index + 1)) <= index + 1
        else:
            assert profiles.create_enrollment_url(own.id).url.startswith("https://")
    return own.id, created, updates


@pytest.fixture
def no_waits(monkeypatch):
    monkeypatch.setattr(user_profiles_sdk._client.time, "sleep", lambda _: None)


def pool_warnings(caplog):
    return [
        r
        for r in caplog.records
        if r.name == "urllib3.connectionpool" and "pool is full" in r.getMessage()
    ]


def test_sixteen_threads_share_one_client_through_faults_without_loss(
    no_waits, caplog, record_property
):
    fake = AimedFaults()
    results = {}

    with EmulatorServer(fake) as server, make_client(server, pool_size=16) as client:
        errors = run_threads(
            THREADS, lambda i: results.__setitem__(i, mixed_calls(client, i))
        )

    stored = Counter(p.external_id for p in fake.profiles.values())
    made = [
        external_id for _, created, _ in results.values() for external_id in created
    ]
    lost = sum(1 for external_id in made if stored[external_id] == 0)
    doubled = sum(
        stored[external_id] - 1 for external_id in made if stored[external_id]
    )
    wrong_metadata = sum(
        1
        for own, _, updates in results.values()
        if fake.profiles[own].metadata != updates
    )
    record_property(
        "load",
        {
            "threads x calls": f"{THREADS} x {CALLS}",
            "threads that finished every call": len(results),
            "errors raised to the threads": len(errors),
            "faults injected": "; ".join(
                f"{kind}: {n}" for kind, n in sorted(fake.injected.items())
            ),
            "faults injected in all": sum(fake.injected.values()),
            "requests seen by the server": len(fake.requests),
            "creates checked by external id": len(made),
            "creates lost": lost,
            "creates duplicated": doubled,
            "profiles whose updates did not all land": wrong_metadata,
            "pool-full warnings (pool_size 16)": len(pool_warnings(caplog)),
        },
    )
    record_property("writes_checked", len(made))
    record_property("writes_lost", lost)
    record_property("writes_duplicated", doubled)
    assert errors == []
    assert len(made) == THREADS * 5
    assert (lost, doubled, wrong_metadata) == (0, 0, 0)
    assert len(fake.requests) == THREADS * CALLS + sum(fake.injected.values())
    assert sum(fake.injected.values()) >= THREADS * CALLS // 4
    assert pool_warnings(caplog) == []


def test_more_threads_than_the_pool_holds_are_warned_about(
    no_waits, caplog, record_property
):
    fake = FakeUserProfiles()
    profile = fake.add_profile()
    for _ in range(THREADS):
        # Every answer waits long enough for all threads to hold a connection.
        fake.stall_next(0.3)

    with EmulatorServer(fake) as server, make_client(server, pool_size=4) as client:
        errors = run_threads(THREADS, lambda _: client.user_profiles.get(profile.id))

    record_property(
        "load",
        {"pool-full warnings (16 threads, pool_size 4)": len(pool_warnings(caplog))},
    )
    assert errors == []
    assert pool_warnings(caplog)


class ConnectionTagging(FakeUserProfiles):
    """The fake, noting which connection carried each request.

    The server gives every connection its own thread, so a number kept per
    thread names the connection.
    """

    def __init__(self) -> None:
        super().__init__()
        self.carried_by: dict = {}
        self._local = threading.local()
        self._numbers = itertools.count(1)

    def handle(self, method, target, headers, body=b"", *, wait=None):
        if not hasattr(self._local, "number"):
            self._local.number = next(self._numbers)
        self.carried_by[target] = self._local.number
        return super().handle(method, target, headers, body, wait=wait)


def fetch_in_child(client, ids):
    """Fork; in the child, fetch `ids` and report them through a pipe."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(reader)
            got = [client.user_profiles.get(one).id for one in ids]
            os.write(writer, json.dumps(got).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    return pid, reader


def read_all(reader):
    chunks = []
    while True:
        chunk = os.read(reader, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(reader)
    return b"".join(chunks)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_client_made_before_fork_works_in_both_processes_on_separate_connections(
    record_property,
):
    fake = ConnectionTagging()
    ids = fake.seed(41)
    path = f"{COLLECTION}/{{}}".format

    with EmulatorServer(fake) as server, make_client(server) as client:
        client.user_profiles.get(ids[0])
        pid, reader = fetch_in_child(client, ids[21:])
        in_parent = [client.user_profiles.get(one).id for one in ids[1:21]]
        answer = read_all(reader)
        _, status = os.waitpid(pid, 0)

    before = fake.carried_by[path(ids[0])]
    parent = {fake.carried_by[path(one)] for one in ids[1:21]}
    child = {fake.carried_by[path(one)] for one in ids[21:]}
    record_property(
        "fork",
        {
            "requests by the parent after the fork": len(in_parent),
            "requests by the child": len(json.loads(answer or b"[]")),
            "connections the parent used after the fork": len(parent),
            "connections the child used": len(child),
            "connections both used": len(parent & child),
        },
    )
    assert status == 0
    assert json.loads(answer) == ids[21:]
    assert in_parent == ids[1:21]
    assert parent == {before}
    assert len(child) == 1
    assert not parent & child
