"""The check kinds as one table. Each kind's module declares a ``Kind`` (base.py) and is
registered with one line (ingest/checks/__init__.py); the runner, the API's monitor
schemas and `vigil check` read everything about a kind from here.

The API's schemas and the CLI parser are built from the table once, when they are
imported; a kind registered after that would be run by workers but unknown to both, so
registering then is refused."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Annotated, Any, Literal

from pydantic import Field

from ingest.checks.base import STORED_TIMEOUTS, Flag, Kind, Timeouts


@dataclass(frozen=True, slots=True)
class CliFlag:
    """A `vigil check` flag as the parser offers it: one per name, whichever kinds take it."""

    name: str
    field: str
    help: str
    argparse: dict[str, Any]


class Registry(Mapping[str, Kind]):
    def __init__(self, *kinds: Kind) -> None:
        self._kinds: dict[str, Kind] = {}
        self._sealed = False
        for kind in kinds:
            self.register(kind)

    def register(self, kind: Kind) -> None:
        """Add a kind; ValueError when it clashes with one already here."""
        if self._sealed:
            raise RuntimeError(f"check kind {kind.name!r} registered after the API schemas or the "
                               "`vigil check` parser were built from the kinds; register it before")
        if kind.name in self._kinds:
            raise ValueError(f"check kind {kind.name!r} is registered already")
        if kind.timeouts not in STORED_TIMEOUTS:
            raise ValueError(f"{kind.name}: timeout bounds {kind.timeouts} exceed what monitors store "
                             f"({STORED_TIMEOUTS.min_ms}-{STORED_TIMEOUTS.max_ms} ms)")
        for other in self._kinds.values():
            taken = set(kind.schemes) & set(other.schemes)
            if taken:
                raise ValueError(f"{kind.name}: URL scheme {sorted(taken)[0]!r} belongs to {other.name}")
            for mine in kind.flags:
                for theirs in other.flags:
                    _same_meaning(mine, theirs, kind.name, other.name)
        self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> Kind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def _read(self) -> Registry:
        self._sealed = True
        return self

    # --- what the API's monitor schemas are built from ---

    @property
    def default(self) -> Kind:
        """A monitor's kind when a client names none: the first registered."""
        return next(iter(self._kinds.values()))

    def names_literal(self) -> Any:
        """The monitor's ``kind`` as a type: one of the registered names."""
        return Literal[tuple(self._read())]

    def options_union(self) -> Any:
        """A monitor's ``expectations`` as a type: the options of its kind, chosen by ``kind``."""
        union = reduce(operator.or_, (k.options for k in self._read().values()))
        return Annotated[union, Field(discriminator="kind")]

    def timeout_envelope(self) -> Timeouts:
        """The widest timeout_ms any kind takes; the default kind's default."""
        kinds = self._read().values()
        return Timeouts(min(k.timeouts.min_ms for k in kinds), self.default.timeouts.default_ms,
                        max(k.timeouts.max_ms for k in kinds))

    # --- what `vigil check` is built from ---

    def of_scheme(self, scheme: str) -> Kind | None:
        return next((k for k in self._kinds.values() if scheme in k.schemes), None)

    def schemes(self) -> list[str]:
        return [s for k in self._kinds.values() for s in k.schemes]

    def cli_flags(self) -> list[CliFlag]:
        """Every kind's flags, once each; the help says which kinds take a flag."""
        takers: dict[str, list[tuple[Kind, Flag]]] = {}
        for kind in self._read().values():
            for f in kind.flags:
                takers.setdefault(f.name, []).append((kind, f))
        return [CliFlag(name, pairs[0][1].field, _help(pairs), pairs[0][1].argparse)
                for name, pairs in takers.items()]

    def flag_of(self, field: str) -> str | None:
        """The flag that sets an option field, whichever kind has it."""
        return next((f.name for k in self._kinds.values() for f in k.flags if f.field == field), None)


def _same_meaning(mine: Flag, theirs: Flag, kind: str, other: str) -> None:
    """Kinds may share a flag (--insecure), but only with one field and one way of reading it."""
    if (mine.name == theirs.name) != (mine.field == theirs.field) or (
            mine.name == theirs.name and (mine.argparse, mine.convert) != (theirs.argparse, theirs.convert)):
        raise ValueError(f"{kind}: flag {mine.name} ({mine.field}) clashes with {other}'s "
                         f"{theirs.name} ({theirs.field})")


def _help(pairs: list[tuple[Kind, Flag]]) -> str:
    """"http, tls: text (default X)": the kinds that take a flag and what it means to each."""
    texts = []
    for kind, f in pairs:
        default = kind.options.model_fields[f.field].default
        shown = isinstance(default, int | str | float) and not isinstance(default, bool)
        texts.append((kind.name, f.help + (f" (default {default})" if shown else "")))
    return by_kind(texts, always_name=True)


def by_kind(texts: Iterable[tuple[str, str]], always_name: bool = False) -> str:
    """(kind, text) pairs as "a, b: text; c: other", one part per distinct text; a text
    every kind shares is given alone unless ``always_name``."""
    kinds: dict[str, list[str]] = {}
    for name, text in texts:
        kinds.setdefault(text, []).append(name)
    if len(kinds) == 1 and not always_name:
        return next(iter(kinds))
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in kinds.items())
