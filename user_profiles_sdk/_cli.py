"""The ``user-profiles`` command: the API from a shell, the emulator, and a demo.

Results go to stdout as JSON, and an error goes to stderr as one line that
carries the request id when the API gave one. The exit status says what
happened: 0 done, 1 the API answered with an error or could not be reached,
2 the command line was malformed or the SDK refused the input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Optional,
    Sequence,
    TextIO,
    Tuple,
    TypeVar,
)
from urllib.parse import urlsplit

import requests

from ._client import Client
from ._converter import converter, format_timestamp
from ._resources import UserProfiles
from ._version import __version__
from .errors import NotFoundError, UserProfilesError, ValidationError
from .models import UserProfile

if TYPE_CHECKING:
    from .testing import FakeUserProfiles

T = TypeVar("T")

PROG = "user-profiles"

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_EXIT_STATUSES = """\
exit status:
  0    done
  1    the API answered with an error, or could not be reached
  2    the command line was malformed, or the SDK refused the input
  130  interrupted
"""


def run(
    argv: Optional[Sequence[str]] = None,
    stdout: Optional[TextIO] = None,
    stderr: Optional[TextIO] = None,
) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: The arguments after the program name; defaults to
            ``sys.argv[1:]``.
        stdout: Where results go; defaults to ``sys.stdout``.
        stderr: Where errors, usage and progress go; defaults to
            ``sys.stderr``.

    Returns:
        0 on success, 1 for an API or connection error, 2 for bad usage or
        input the SDK refused, 130 when interrupted.
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr

    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = _parser().parse_args(argv)
    except SystemExit as exc:
        # argparse exits by itself after --help, --version or a usage error.
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    return _execute(args, out, err)


def _execute(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        if args.local is not None:
            status: int = args.local(args, out, err)
            return status
        with _client(args) as client:
            args.api(client.user_profiles, args, out, err)
        out.flush()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): what it wanted, it has.
        _discard(out)
        return EXIT_OK
    except ValidationError as exc:
        _report(err, exc)
        return EXIT_USAGE
    except UserProfilesError as exc:
        _report(err, exc)
        return EXIT_API_ERROR
    return EXIT_OK


def _report(err: TextIO, problem: object) -> None:
    text = " ".join(str(problem).split())
    err.write(f"error: {text}\n")


def _discard(out: TextIO) -> None:
    # Python flushes stdout once more at exit and would complain about the
    # broken pipe there; pointing the descriptor at devnull keeps it quiet.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, out.fileno())
        finally:
            os.close(devnull)


def _client(args: argparse.Namespace) -> Client:
    options: Dict[str, Any] = {"base_url": args.base_url}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if args.max_retries is not None:
        options["max_retries"] = args.max_retries
    return Client(args.api_key, **options)


def _emit(out: TextIO, data: Any) -> None:
    json.dump(data, out, indent=2)
    out.write("\n")


def _create(
    profiles: UserProfiles, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    profile = profiles.create(external_id=args.external_id, metadata=args.metadata)
    _emit(out, converter.unstructure(profile))


def _get(
    profiles: UserProfiles, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    _emit(out, converter.unstructure(profiles.get(args.id)))


def _update(
    profiles: UserProfiles, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    profile = profiles.update(
        args.id,
        external_id=args.external_id,
        metadata=args.set,
        remove_metadata=args.remove,
    )
    _emit(out, converter.unstructure(profile))


def _list(
    profiles: UserProfiles, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    if args.all:
        _list_all(profiles, args, out, err)
        return
    page = profiles.list(limit=args.limit, page=args.page, order=args.order)
    _emit(out, converter.unstructure(page))


def _list_all(
    profiles: UserProfiles, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    pages = profiles.list_pages(limit=args.limit, page=args.page, order=args.order)
    counting = err.isatty()
    count = 0

    try:
        for page in pages:
            for profile in page:
                out.write(json.dumps(converter.unstructure(profile)) + "\n")
            # Flushed a page at a time, so a reader downstream starts at once.
            out.flush()
            count += len(page)
            if counting:
                err.write(f"\ruser profiles: {count}")
                err.flush()
    finally:
        if counting:
            err.write("\n")


def _enrollment_url(
    profiles: UserProfiles, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    _emit(out, converter.unstructure(profiles.create_enrollment_url(args.id)))


def _emulator(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .testing import EmulatorServer

    try:
        server = EmulatorServer(host=args.host, port=args.port)
        server.start()
    except OSError as exc:
        _report(err, f"cannot listen on {args.host}:{args.port}: {exc}")
        return EXIT_API_ERROR

    try:
        out.write(f"listening on {server.url}\n")
        out.flush()
        err.write(
            f"Set ANTHROPIC_BASE_URL={server.url} and any non-empty"
            " ANTHROPIC_API_KEY to use it; stop it with Ctrl-C.\n"
        )
        _wait_for_stop_signal()
    finally:
        server.stop()
    return EXIT_OK


def _wait_for_stop_signal() -> None:
    stop = threading.Event()

    def handle(signum: int, frame: Any) -> None:
        stop.set()

    previous = {
        number: signal.signal(number, handle)
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        # A wait with a timeout returns now and then, which is where Python
        # runs signal handlers on platforms whose waits signals cannot break.
        while not stop.wait(0.5):
            pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# Columns a call may take on one line of the demo before it is split.
_DEMO_WIDTH = 80


class _Narrator:
    """Print the demo: numbered steps, each SDK call as typed, what came back."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._steps = 0

    def step(self, title: str) -> None:
        self._steps += 1
        self.line(f"\n{self._steps}. {title}")

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        shown = [repr(arg) for arg in args]
        shown += [f"{name}={value!r}" for name, value in kwargs.items()]
        opening = f">>> client.user_profiles.{method.__name__}("
        if len(opening) + sum(len(part) + 2 for part in shown) <= _DEMO_WIDTH:
            self.say(f"{opening}{', '.join(shown)})")
        else:
            self.say(opening)
            for part in shown:
                self.say(f"...     {part},")
            self.say("... )")
        return method(*args, **kwargs)

    def say(self, text: str) -> None:
        for part in text.split("\n"):
            self.line(f"   {part}")

    def line(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()


def _summary(profile: UserProfile) -> str:
    grants = {name: str(grant.status) for name, grant in profile.trust_grants.items()}
    text = (
        f"{profile.id}\n  external_id={profile.external_id!r}"
        f"  metadata={json.dumps(profile.metadata)}"
    )
    return f"{text}\n  trust_grants={json.dumps(grants)}" if grants else text


# Not an id the emulator hands out: its ids hold 24 random letters and digits.
_UNKNOWN_ID = "uprof_" + "0" * 24


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .testing import EmulatorServer, FakeUserProfiles

    fake = FakeUserProfiles()
    tell = _Narrator(out)
    # The session ignores proxy settings from the environment: the emulator is
    # on this machine, and a proxy could neither reach it nor needs to.
    with EmulatorServer(fake) as server, requests.Session() as session:
        session.trust_env = False
        client = Client("demo-key", base_url=server.url, session=session)
        _demo_intro(tell, server.url)
        first, _ = _demo_create(tell, client.user_profiles)
        _demo_read(tell, client.user_profiles, first)
        _demo_enroll(tell, client.user_profiles, first, fake)
        _demo_error(tell, client.user_profiles)
    tell.line(
        "\nThat was every endpoint. To try your own code, run `user-profiles"
        " emulator`\nand set ANTHROPIC_BASE_URL to the URL it prints."
    )
    return EXIT_OK


def _demo_intro(tell: _Narrator, url: str) -> None:
    tell.line("A tour of the User Profiles SDK")
    tell.line(
        f"An emulator of the API is running on this machine at {url}.\n"
        'The client below talks only to it, with the made-up key "demo-key":\n'
        "nothing in this demo reaches the real API."
    )


def _demo_create(
    tell: _Narrator, profiles: UserProfiles
) -> Tuple[UserProfile, UserProfile]:
    tell.step("create: make two user profiles, with metadata")
    first = tell.call(
        profiles.create,
        external_id="user_12345",
        metadata={"plan": "pro", "legacy_flag": "on"},
    )
    tell.say(_summary(first))
    second = tell.call(
        profiles.create, external_id="user_67890", metadata={"plan": "free"}
    )
    tell.say(_summary(second))
    tell.say("external_id is your own id for the user. It is not unique: every create")
    tell.say("makes a new profile, so keep the id the API returns.")
    return first, second


def _demo_read(tell: _Narrator, profiles: UserProfiles, first: UserProfile) -> None:
    tell.step("get: fetch one profile by its id")
    tell.say(_summary(tell.call(profiles.get, first.id)))

    tell.step("update: set one metadata key and remove another")
    updated = tell.call(
        profiles.update,
        first.id,
        metadata={"plan": "enterprise"},
        remove_metadata=["legacy_flag"],
    )
    tell.say(_summary(updated))
    tell.say("Keys you do not name stay as they were.")

    tell.step("list: one page at a time, oldest first")
    page = tell.call(profiles.list, limit=1, order="asc")
    tell.say(f"data: {[profile.id for profile in page]}")
    tell.say(f"next_page: {page.next_page!r}")
    tell.say("Pass next_page as page= to fetch the next page; it is None on the last.")

    tell.step("list_all: every profile, following the cursors for you")
    every = list(tell.call(profiles.list_all, limit=1, order="asc"))
    tell.say("\n".join(profile.id for profile in every))
    tell.say(f"{len(every)} profiles, fetched one page of 1 at a time")


def _demo_enroll(
    tell: _Narrator,
    profiles: UserProfiles,
    first: UserProfile,
    fake: FakeUserProfiles,
) -> None:
    tell.step("create_enrollment_url: where the end user enrolls")
    url = tell.call(profiles.create_enrollment_url, first.id)
    parts = urlsplit(url.url)
    tell.say(
        f"A URL on host {parts.netloc}, expiring at {format_timestamp(url.expires_at)}."
    )
    tell.say("Whoever holds it can use it, so it is a secret: this demo does not print")
    tell.say("it, and the repr of the returned object hides it too.")
    tell.say("Redirect the end user to url.url to complete enrollment there.")

    tell.step("enrollment completes, and the profile gains a trust grant")
    tell.say("On the real service the end user finishes the flow at that URL. Here the")
    tell.say('emulator stands in: fake.set_trust_grant(id, "cyber", "active")')
    fake.set_trust_grant(first.id, "cyber", "active")
    enrolled = tell.call(profiles.get, first.id)
    tell.say(_summary(enrolled))
    tell.say(f'has_active_grant("cyber") -> {enrolled.has_active_grant("cyber")}')


def _demo_error(tell: _Narrator, profiles: UserProfiles) -> None:
    tell.step("errors: fetch an id that does not exist")
    try:
        tell.call(profiles.get, _UNKNOWN_ID)
    except NotFoundError as exc:
        tell.say(
            f"raised NotFoundError: status_code={exc.status_code},"
            f" error_type={exc.error_type!r}"
        )
        tell.say(f"message: {exc.message}")
        tell.say(f"request_id: {exc.request_id!r} (quote it when you ask for help)")
        tell.say("Each status has its own class; all derive from UserProfilesError.")


class _Pairs(argparse.Action):
    """Collect repeated ``KEY=VALUE`` arguments into one dict."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: Optional[str] = None,
    ) -> None:
        key, equals, value = str(values).partition("=")
        if not equals:
            parser.error(f"{option_string} takes KEY=VALUE, not {values!r}")
        pairs = dict(getattr(namespace, self.dest) or {})
        if key in pairs:
            parser.error(f"{option_string} names the key {key!r} twice")
        pairs[key] = value
        setattr(namespace, self.dest, pairs)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Create, read and update user profiles of the User Profiles API.",
        epilog=_EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument(
        "--api-key",
        help="the API key; defaults to ANTHROPIC_API_KEY, which is safer: a flag"
        " shows in the process list",
    )
    parser.add_argument(
        "--base-url",
        help="where the API lives; defaults to ANTHROPIC_BASE_URL, then"
        " https://api.anthropic.com",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="how long to wait to connect and for each answer (default 5 and 30)",
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        help="retries after a failed attempt (default 2)",
    )
    parser.set_defaults(api=None, local=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_api_commands(commands)
    _add_local_commands(commands)
    return parser


def _add_api_commands(commands: Any) -> None:
    create = commands.add_parser("create", help="create a user profile")
    create.add_argument("--external-id", metavar="ID", help="your own id for the user")
    create.add_argument(
        "--metadata",
        action=_Pairs,
        metavar="KEY=VALUE",
        help="a metadata pair; repeat for more",
    )
    create.set_defaults(api=_create)

    get = commands.add_parser("get", help="fetch a user profile")
    get.add_argument("id", help="the user profile's id")
    get.set_defaults(api=_get)

    update = commands.add_parser("update", help="update a user profile")
    update.add_argument("id", help="the user profile's id")
    update.add_argument("--external-id", metavar="ID", help="a new external id")
    update.add_argument(
        "--set",
        action=_Pairs,
        metavar="KEY=VALUE",
        help="set a metadata key (an empty value removes it); repeat for more",
    )
    update.add_argument(
        "--remove",
        action="append",
        metavar="KEY",
        help="remove a metadata key; repeat for more",
    )
    update.set_defaults(api=_update)

    _add_list(commands)

    enroll = commands.add_parser(
        "enrollment-url",
        help="mint an enrollment URL (a secret: whoever holds it can use it)",
    )
    enroll.add_argument("id", help="the user profile's id")
    enroll.set_defaults(api=_enrollment_url)


def _add_list(commands: Any) -> None:
    listing = commands.add_parser(
        "list",
        help="list user profiles",
        description="Print one page as JSON, or with --all every profile as JSON"
        " lines.",
    )
    listing.add_argument(
        "--limit", type=int, metavar="N", help="profiles per page, 1 to 100"
    )
    listing.add_argument(
        "--order", choices=("asc", "desc"), help="by creation time (default desc)"
    )
    listing.add_argument(
        "--page", metavar="CURSOR", help="a next_page cursor from an earlier page"
    )
    listing.add_argument(
        "--all",
        action="store_true",
        help="follow the cursors and print every profile, one JSON line each",
    )
    listing.set_defaults(api=_list)


def _add_local_commands(commands: Any) -> None:
    emulator = commands.add_parser(
        "emulator",
        help="serve an in-memory emulator of the API until interrupted",
    )
    emulator.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on"
    )
    emulator.add_argument(
        "--port",
        type=int,
        default=0,
        metavar="N",
        help="the port to listen on (default: a free one, printed)",
    )
    emulator.set_defaults(local=_emulator)

    demo = commands.add_parser(
        "demo",
        help="walk every endpoint against an in-process emulator; no key needed",
    )
    demo.set_defaults(local=_demo)
