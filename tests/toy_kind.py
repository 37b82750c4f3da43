"""A check kind that exists only for the tests, written the way a real one is: one module
declaring its KIND. `echo://WORD` is up when the word is the one its options expect.

Run as `python -m tests.toy_kind ARGS...`, it is `vigil ARGS...` with this kind registered
by the one line a real kind adds to ingest/checks/__init__.py, and nothing else changed."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field

from ingest.checks.base import CheckContext, CheckResult, Kind, MonitorSpec, Options, Timeouts, flag
from vigil.constants import ErrorKind


class EchoOptions(Options):
    kind: Literal["echo"] = "echo"
    word: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        default=None, description="the word the target must say")


def parse_target(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme != "echo" or not (parts.hostname or "").isalpha():
        raise ValueError(f"an echo target must look like echo://word, got {target!r}")
    return parts.hostname


async def check(spec: MonitorSpec, opts: EchoOptions, ctx: CheckContext) -> CheckResult:
    said = parse_target(spec.target)
    if opts.word is not None and said != opts.word:
        return CheckResult.failure(ErrorKind.assertion, f"said {said!r}, expected {opts.word!r}")
    return CheckResult(up=True, detail={"said": said})


KIND = Kind(check=check, options=EchoOptions, parse_target=parse_target, schemes=("echo",), usage="echo://word",
            timeouts=Timeouts(min_ms=200, default_ms=1_000, max_ms=5_000),
            flags=(flag("--word", "word", "the word the target must say"),))


if __name__ == "__main__":
    from ingest.checks import KINDS

    KINDS.register(KIND)

    from vigil.cli import main

    main()
