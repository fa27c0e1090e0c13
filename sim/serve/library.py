"""The scenario files the page may read: those it was given and those under its folder.

A request names a file by the name this library gave it; the name is looked
up here and never joined to a path. So ``../`` or an absolute path in a
request can only be an unknown name (tested).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserError
from sim.run.experiment import check_pair
from sim.scenario import Scenario, load_scenario
from sim.scenario.files import extends_chain

MAX_FILE_BYTES = 1_000_000
"""A scenario file larger than this is not read (the shipped ones are below 20 kB)."""
RESCAN_SECONDS = 2.0
"""How long the list of files is kept before the folder is looked at again."""
MAX_DEPTH = 3
"""Folders below the served folder that are looked into."""


class UnknownFile(UserError, LookupError):
    """A request named a file the page was not given and that is not under its folder."""


@dataclass(frozen=True)
class Pair:
    """A baseline and a strategy that extends it, by their names in the library."""

    base: str
    strategy: str
    title: str
    title_en: str = ""


class Library:
    """Scenario files by name: the files given, and ``*.toml`` under ``folder`` (not below ``results``).

    Parameters
    ----------
    folder : Path, optional
        The served folder.
    given : list of Path
        Files named on the command line (they may lie elsewhere).
    """

    def __init__(self, folder: Path | None, given: list[Path] = ()) -> None:
        self.folder = folder.resolve() if folder is not None else None
        self.given = [Path(p).resolve() for p in given]
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[tuple[tuple[Path, int], ...], Scenario]] = {}
        self._files: dict[str, Path] | None = None
        self._scanned = 0.0

    def files(self) -> dict[str, Path]:
        """Every readable file by its name: a path relative to the folder, or a given file's name.

        Looked up again at most every :data:`RESCAN_SECONDS` (a file added while the page
        runs appears), and only :data:`MAX_DEPTH` folders deep, skipping hidden folders and
        ``results``: serving a project's root must not walk its virtual environment.
        """
        with self._lock:
            if self._files is not None and time.monotonic() - self._scanned < RESCAN_SECONDS:
                return dict(self._files)
        out: dict[str, Path] = {}
        if self.folder is not None and self.folder.is_dir():
            for top, dirs, names in os.walk(self.folder):
                rel = Path(top).relative_to(self.folder)
                dirs[:] = sorted(
                    d for d in dirs if not d.startswith(".") and d != "results" and len(rel.parts) < MAX_DEPTH
                )
                for n in sorted(names):
                    if n.endswith(".toml") and not n.startswith("."):
                        out[(rel / n).as_posix()] = (Path(top) / n).resolve()
        for p in self.given:
            name = p.relative_to(self.folder).as_posix() if self._under(p) else p.name
            out.setdefault(name, p)
        with self._lock:
            self._files, self._scanned = out, time.monotonic()
        return dict(out)

    def _under(self, path: Path) -> bool:
        return self.folder is not None and path.is_relative_to(self.folder)

    def path(self, name: str) -> Path:
        """The file a name stands for; :class:`UnknownFile` for any other name."""
        found = self.files().get(name)
        if found is None:
            raise UnknownFile(f"'{name}' is not one of the scenario files this page serves")
        return found

    def load(self, name: str) -> Scenario:
        """The scenario of a file (validated as ``trappesim check`` does), read again when it changes.

        A file is read again when it or a file it extends has a new modification time (a
        ``stat`` each, not a parse: the page asks at every lever move).
        """
        path = self.path(name)
        own = path.stat()  # its size and its time: one stat (the page asks at every lever move)
        if own.st_size > MAX_FILE_BYTES:
            raise UnknownFile(f"'{name}' is larger than {MAX_FILE_BYTES:,} bytes: not a scenario file")
        with self._lock:
            hit = self._cache.get(path)
        if hit is not None:
            stamps, scenario = hit
            try:
                # The file's own time is the stat above; the files it extends, one each.
                if stamps[0][1] == own.st_mtime_ns and all(p.stat().st_mtime_ns == t for p, t in stamps[1:]):
                    return scenario
            except OSError:
                pass
        files = [path, *extends_chain(path)]
        stamps = tuple((p, p.stat().st_mtime_ns) for p in files)
        scenario = load_scenario(path)
        with self._lock:
            self._cache[path] = (stamps, scenario)
        return scenario

    def pairs(self) -> tuple[list[Pair], dict[str, str]]:
        """Strategies with the baseline they extend; and the files that cannot be read, with why."""
        files = self.files()
        by_path = {p: n for n, p in files.items()}
        pairs: list[Pair] = []
        broken: dict[str, str] = {}
        for name, path in files.items():
            try:
                scenario = self.load(name)
            except (UserError, OSError, ValueError) as err:
                broken[name] = str(err)
                continue
            if scenario.intervention is None:
                continue
            # The nearest file up the extends chain that it can be compared with (same steps,
            # years, area, money and adult life); else another baseline here that can (a lifetime
            # strategy that extends a plain one, beside the lifetime baseline).
            chain = [by_path[p.resolve()] for p in extends_chain(path) if p.resolve() in by_path]
            others = [n for n in files if n not in chain and n != name]
            for base in [*chain, *others]:
                try:
                    candidate = self.load(base)
                    if candidate.intervention is None:
                        check_pair(candidate, scenario)
                        pairs.append(Pair(base, name, scenario.title or scenario.name, scenario.title_en))
                        break
                except (UserError, OSError, ValueError):
                    continue
        return pairs, broken
