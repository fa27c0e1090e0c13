"""The page's state as files: scenario TOML that keeps the original's comments, and its reports.

A downloaded strategy is the original file with each value the levers moved
replaced and commented with its old value and the date; values are written
exactly (Python's shortest round-trip form), so ``trappesim compare`` on the
downloaded files gives the page's figures to the last digit (tested). Levers
that move both arms (horizon, discounting, places) change the baseline: it is
downloaded too, and the strategy then extends it.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, load_scenario
from sim.scenario.files import edit_toml, extends_chain
from sim.serve.words import word

UNITS = ("intervention.entry.entry_step_shares", "discounting.periods")
"""Values written whole, as one line, rather than key by key."""


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The dotted keys whose values differ between two resolved scenarios (``to_dict()``)."""
    out: dict[str, Any] = {}
    for key in sorted({*old, *new}):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(b, dict) and path not in UNITS:
            out.update(differences(a if isinstance(a, dict) else {}, b, path + "."))
        elif isinstance(b, dict):
            out[path] = {k: v for k, v in b.items() if v is not None}
        elif b is None and isinstance(a, dict):
            out[path] = None
        elif b == "" and a is None:
            continue  # a new table's empty words (its source): nothing to write
        elif b is not None:
            out[path] = b
    return out


def what_if_files(
    paths: tuple[Path, Path],
    originals: tuple[Scenario, Scenario],
    arms: tuple[Scenario, Scenario],
    day: date,
    lang: str = "en",
) -> dict[str, tuple[str, str] | None]:
    """The strategy file of a state (and the baseline's, if the state changes both arms).

    Its comments are in the page's language ``lang``: a changed value's comment
    is shown as that number's source in the reports.

    Returns
    -------
    dict
        ``{"strategy": (file name, text), "baseline": (file name, text) or None}``.
    """
    stamp = word("file_stamp", lang, day=day.isoformat())
    # The comments' words, in the page's language.
    words = {
        "was_word": word("file_was", lang),
        "not_set": word("file_not_set", lang),
        "old_note": word("file_old_note", lang),
    }
    base_path, strategy_path = paths
    was_base, was_strategy = originals[0].to_dict(), originals[1].to_dict()
    base_changes = differences(was_base, arms[0].to_dict())
    strategy_changes = differences(was_strategy, arms[1].to_dict())
    # The pair's changes live in the baseline, which the strategy extends.
    strategy_changes = {k: v for k, v in strategy_changes.items() if k not in base_changes}
    # Named as the file is: its printed summary and results folder are then told from the original's.
    strategy_changes["name"] = _whatif(arms[1].name)
    if base_changes:
        base_changes["name"] = _whatif(arms[0].name)
    out: dict[str, tuple[str, str] | None] = {"baseline": None}
    extends = None
    if base_changes:
        name = what_if_name(base_path)
        text = edit_toml(_read(base_path), base_changes, stamp, was_base, **words)
        out["baseline"] = (name, _header(text, base_path, None, day, lang))
        extends = name
    name = what_if_name(strategy_path)
    text = edit_toml(_read(strategy_path), strategy_changes, stamp, was_strategy, extends, **words)
    out["strategy"] = (name, _header(text, strategy_path, out["baseline"], day, lang))
    return out


def as_downloaded(
    arms: tuple[Scenario, Scenario], texts: dict[str, tuple[str, str] | None]
) -> tuple[Scenario, Scenario]:
    """The arms named as the downloaded files of :func:`what_if_files` name them (``...-whatif``)."""
    a, b = arms
    if texts["baseline"] is not None:
        a = a.with_changes({"name": _whatif(a.name)}, warn=False)
    return a, b.with_changes({"name": _whatif(b.name)}, warn=False)


def _whatif(name: str) -> str:
    """``name`` marked as a what-if (once: a what-if of a what-if keeps one mark)."""
    return name if name.endswith("-whatif") else f"{name}-whatif"


def what_if_name(path: Path) -> str:
    """The name a file of the page's state gets: ``denmark-early-detection-whatif.toml``.

    Marked as its scenario's name is (:func:`_whatif`): a file downloaded from a
    downloaded file is ``...-whatif.toml`` again, not ``...-whatif-whatif.toml``.
    """
    return f"{_whatif(path.stem)}.toml"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def _header(text: str, source: Path, baseline: tuple[str, str] | None, day: date, lang: str) -> str:
    """Say where the file came from and where to save it, below a ``#:schema`` line."""
    lines = [
        "# " + word("file_header", lang, source=source.name, day=day.isoformat()),
        "# "
        + (
            word("file_save_beside", lang, source=source.name, baseline=baseline[0])
            if baseline
            else word("file_save", lang, source=source.name)
        ),
    ]
    head, _, rest = text.partition("\n")
    if head.startswith("#:schema"):
        return head + "\n" + "\n".join(lines) + "\n" + rest
    return "\n".join(lines) + "\n" + text


def write_report(
    folder: Path,
    paths: tuple[Path, Path],
    texts: dict[str, tuple[str, str] | None],
    perspective: str,
    lang: str,
    result: Any = None,
) -> Path:
    """A results folder of the state (reports included), from its files as downloaded.

    The files are written into ``folder`` (a ``extends`` pointing back to the
    original folder), loaded as ``trappesim compare`` loads them, compared with
    the expected engine unless ``result`` (a finished simulation of the same
    state) is given, and written with :func:`sim.outputs.results.write_results`.
    """
    import sim
    from sim.outputs.results import file_hash, write_results

    # Resolved: the copies' paths are compared with the resolved ones of extends (a temporary
    # folder under a link, as macOS's /var is, would otherwise name a copy).
    folder = folder.resolve()
    base_path = paths[0]
    # The provenance names the files as downloaded (their names, the hash of their
    # text), not these working copies, whose extends point back to the served folder.
    shown: dict[str, tuple[str, str]] = {}
    if texts["baseline"] is not None:
        name, text = texts["baseline"]
        base_path = folder / name
        base_path.write_text(_absolute_extends(text, paths[0]), encoding="utf-8")
        shown[str(base_path)] = (name, hashlib.sha256(text.encode("utf-8")).hexdigest())
    # Files the state leaves as they are (the baseline, what the files extend) by their names too:
    # the served folder's path is the server's, not part of what the reader was given.
    kept = [*extends_chain(paths[0]), *extends_chain(paths[1])] + (
        [paths[0]] if texts["baseline"] is None else []
    )
    for path in kept:
        for key in {str(path), str(path.resolve())}:
            shown.setdefault(key, (path.name, file_hash(path)))
    name, text = texts["strategy"]
    strategy_path = folder / name
    shown[str(strategy_path)] = (name, hashlib.sha256(text.encode("utf-8")).hexdigest())
    # Its extends names the what-if baseline beside it, or the original baseline beside the original.
    strategy_path.write_text(
        _absolute_extends(text, strategy_path if texts["baseline"] else paths[1]), "utf-8"
    )
    started = time.perf_counter()
    if result is None:
        result = sim.compare(
            load_scenario(base_path), load_scenario(strategy_path), engine="expected", perspective=perspective
        )
    out = folder / "results"
    write_results(
        result,
        out,
        {"baseline": base_path, "strategy": strategy_path},
        ["trappesim", "serve"],
        time.perf_counter() - started,
        lang=lang,
        shown=shown,
    )
    return out


def _absolute_extends(text: str, source: Path) -> str:
    """The text with ``extends`` made absolute, resolved from ``source``'s folder (for a copy elsewhere)."""
    import tomlkit

    doc = tomlkit.parse(text)
    if isinstance(doc.get("extends"), str):
        doc["extends"] = os.fspath((source.parent / str(doc["extends"])).resolve())
    return tomlkit.dumps(doc)
