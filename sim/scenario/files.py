"""Scenario files: reading TOML, ``extends``, notes, saving."""

from __future__ import annotations

import copy
import os
import re
import tomllib
import warnings
from pathlib import Path
from typing import Any, TypeAlias

import tomlkit

from sim.errors import OptionError, OutputExistsError, ScenarioError
from sim.scenario.schema import Scenario
from sim.scenario.validation import _check_unknown_keys

# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


ScenarioLike: TypeAlias = "Scenario | str | os.PathLike[str]"
"""A scenario, or the path of a scenario file: every function that takes a scenario takes either."""


def as_scenario(scenario: ScenarioLike) -> Scenario:
    """The scenario itself, or the one a path names, loaded and validated.

    Examples
    --------
    >>> as_scenario("scenarios/municipality-template.toml").name
    'municipality-template'
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    raise TypeError(f"expected a Scenario or the path of a scenario file, not {type(scenario).__name__}")


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A TOML file. ``extends = "other.toml"`` is resolved relative to it.

    Returns
    -------
    Scenario
        Frozen and fully validated.

    Raises
    ------
    ScenarioError
        With file, key path and what is allowed; also for a value beyond its
        hard limit (:data:`sim.scenario.plausibility.LIMITS`).

    Warns
    -----
    PlausibilityWarning
        For each number outside its plausible range
        (:func:`sim.scenario.plausibility.check_scenario`).
    """
    data, file = _read_with_extends(Path(path), [])
    from sim.scenario.plausibility import PlausibilityWarning, caller_level, check_scenario, origin

    try:
        scenario = Scenario.from_dict(data, file=file)
    except ScenarioError as err:
        if err.key in OWN_KEYS and "extends" in data and "required key is missing" in err.message:
            raise ScenarioError(
                err.file, err.key, f"{err.message}: a file names its own scenario, not the one it extends"
            ) from None
        # A value the file inherits is wrong in the file that writes it: name that one.
        where = origin(file, err.key) if err.key and err.file == file else err.file
        if where and where != err.file:
            raise ScenarioError(where, err.key, err.message) from None
        raise

    for finding in check_scenario(scenario, file):
        warnings.warn(PlausibilityWarning(str(finding)), stacklevel=caller_level())
    return scenario


# A money or count number written like 1.540 or 45.000: in Danish that is a
# thousands separator, in TOML a decimal point. Checked on the number as
# written (tomlkit keeps the text), anywhere under a key about children,
# entries, places or money, including inside a distribution.
_THOUSANDS_TEXT = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+$")
_THOUSANDS_IN_TEXT = re.compile(r"(?<![\w.])[1-9]\d{0,2}(?:\.\d{3})+(?![\d.])")
"""Such a number anywhere in a file's text (in a comment or a string too): only a file with one is
parsed by tomlkit, which takes three quarters of the time of loading a file."""
_COUNT_OR_MONEY = re.compile(r"children|entries|cost|places")
_DECIMAL_COMMA = re.compile(r"=\s*-?\d+,\d")


def _danish_thousands(node: Any, path: str = "") -> tuple[str, str] | None:
    """The first (key path, text) of a number that looks like a Danish thousands separator."""
    if isinstance(node, dict):
        for key, value in node.items():
            found = _danish_thousands(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _danish_thousands(value, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(node, float) and hasattr(node, "as_string"):
        text = node.as_string().strip()
        if _THOUSANDS_TEXT.match(text) and _COUNT_OR_MONEY.search(path):
            return path, text
    return None


def save_scenario(scenario: Scenario, path: str | Path, note: str = "") -> Path:
    """Write a scenario as a TOML file that :func:`load_scenario` reads back unchanged.

    The file stands on its own (``extends`` is resolved); numbers given as
    distributions are written as distributions. An existing file is never
    replaced: choose a new name.

    Parameters
    ----------
    note : str
        A comment for the top of the file (where the numbers came from).
    """
    import tomli_w

    path = Path(path)
    if path.exists():
        raise OutputExistsError(f"{path}: exists; choose another name")
    if not path.parent.is_dir():
        raise OptionError(
            f"{path}: the folder {path.parent} does not exist; create it, or save the file elsewhere"
        )
    head = "".join(f"# {line}\n" for line in note.splitlines()) if note else ""
    text = head + tomli_w.dumps(scenario.to_dict())
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def edit_toml(
    text: str,
    changes: dict[str, Any],
    stamp: str,
    was: dict[str, Any],
    extends: str | None = None,
    digits: int | None = None,
    was_word: str = "was",
    not_set: str = "not set",
    old_note: str = "note on the old value",
) -> str:
    """A scenario file's text with values replaced, its comments and layout kept (tomlkit).

    Each changed value gets the comment ``"STAMP (was OLD)"``, followed by
    the comment it had; a stamp of an earlier edit with the same first word
    is replaced, not stacked. A key the file inherits through ``extends`` is
    added to it; a value ``None`` removes the key, with a comment saying so.

    Parameters
    ----------
    changes : dict
        Dotted key to new value (a number, a list of tables, a table, ``None``).
    stamp : str
        What made the change, e.g. ``"what-if page on 2026-11-28"``.
    was : dict
        The resolved scenario's values before the change (``Scenario.to_dict()``).
    extends : str, optional
        A new ``extends`` line (the file is written somewhere else).
    digits : int, optional
        Round floats to this many decimals; default: written exactly, so the
        file gives back the very numbers (Python's shortest round-trip form).
        A whole number of 1,000 or more is written whole (``30_000_000``).
    was_word : str
        The word before the old value (``"var"`` in a Danish comment).
    not_set, old_note : str
        The old value when there was none, and the words before the comment
        the value had (it was written about the old value), in the
        comments' language.
    """
    doc = tomlkit.parse(text)
    if extends is not None:
        doc["extends"] = extends
    # An earlier stamp by the same maker, in either language ("what-if page", "hvad-nu-hvis-siden",
    # and "what-if-siden" of earlier versions).
    first = re.escape(stamp.split()[0].split("-")[0])
    first = f"(?:{first}|what|hvad)" if first in ("what", "hvad") else first
    for key, value in changes.items():
        parts = key.split(".")
        node, holder = doc, None  # holder: the item written on one line (an inline table), if any
        for part in parts[:-1]:
            if part not in node:
                node[part] = tomlkit.table()
            if holder is None and isinstance(node[part], tomlkit.items.InlineTable):
                holder = (node, part)
            node = node[part]
        old = value_at(was, key)
        target_parent, target_key = holder or (node, parts[-1])
        kept = getattr(getattr(target_parent.get(target_key), "trivia", None), "comment", "") or ""
        kept = re.sub(rf"^{first}\S* .*? \((?:was|var) [^)]*\)(; )?", "", kept.lstrip("#").strip())
        kept = re.sub(rf"^(?:{_OLD_NOTES}|{re.escape(old_note)}): ", "", kept)  # said once, not stacked
        shown = not_set if old is None else _short(old)
        note = f"{stamp} ({was_word} {shown})" + (f"; {old_note}: {kept}" if kept else "")
        if value is None:
            if parts[-1] in node:
                del node[parts[-1]]
            node.add(tomlkit.comment(f"{parts[-1]} removed: {note}"))
            continue
        node[parts[-1]] = _item(value, old, digits)
        if isinstance(target_parent[target_key], tomlkit.items.Table):
            target_parent[target_key].add(tomlkit.comment(note))
        else:
            target_parent[target_key].comment(note)
    return tomlkit.dumps(doc)


_OLD_NOTES = "note on the old value|note til den gamle værdi"
"""The words :func:`edit_toml` puts before a changed value's earlier comment, in either language."""


def value_at(data: dict, key: str) -> Any:
    """The value at a dotted key of nested tables, or None where a part is missing."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _item(value: Any, old: Any, digits: int | None) -> Any:
    """A TOML item for a value: tables on one line, whole numbers kept whole."""
    if isinstance(value, dict):
        item = tomlkit.inline_table()
        item.update({k: _item(v, None, digits) for k, v in value.items()})
        return item
    if isinstance(value, list | tuple):
        arr = tomlkit.array()
        arr.extend(_item(v, None, digits) for v in value)
        return arr
    if isinstance(value, bool) or isinstance(value, str):
        return tomlkit.item(value)
    if isinstance(value, int) or (isinstance(old, int) and not isinstance(old, bool)):
        return _whole(int(value))
    value = round(float(value), digits) if digits is not None else float(value)
    if value.is_integer() and 1000 <= abs(value) < 2**53:
        # 30_000_000 as a person writes it (and reads back the same float), not 30000000.0.
        return _whole(int(value))
    return tomlkit.item(value)


def _whole(value: int) -> Any:
    """A whole number, in groups of three from 10,000 (``21_000_000``), as the shipped files write them."""
    if abs(value) < 10_000:
        return tomlkit.item(value)
    return tomlkit.items.Integer(value, tomlkit.items.Trivia(), f"{value:_}")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if value is None:
        return "not set"
    if isinstance(value, int | float) and not isinstance(value, bool) and 10_000 <= abs(value) < 1e15:
        if float(value).is_integer():  # as the file writes it: 21_000_000, not 21000000
            return f"{int(value):_}"
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def scenario_notes(path: str | Path) -> dict[str, str]:
    """The comment written beside each number in a scenario file and the files it extends.

    Scenario files say where each number comes from in a comment on its line
    ("# DST (H): ..." or "# assumption (L): ..."); reports show these beside
    the numbers. A file's comment replaces the one in the file it extends.

    Returns
    -------
    dict
        Dotted key (as in :meth:`Scenario.with_changes`) to comment text.
    """
    path = Path(path)
    chain = [path, *extends_chain(path)]
    notes: dict[str, str] = {}
    for file in reversed(chain):  # the base first, so children override
        try:
            doc = tomlkit.parse(file.read_text(encoding="utf-8-sig"))
        except (OSError, tomlkit.exceptions.ParseError):
            continue
        _collect_notes(doc, "", notes)
    return notes


def extends_chain(path: str | Path) -> list[Path]:
    """The files a scenario file extends, nearest first (paths as its ``extends`` lines give them).

    Stops quietly at a missing or unreadable file or a loop: loading the
    scenario reports those.
    """
    out: list[Path] = []
    seen = {Path(path).resolve()}
    cur = Path(path)
    while True:
        try:
            parent = tomllib.loads(cur.read_text(encoding="utf-8-sig")).get("extends")
        except (OSError, tomllib.TOMLDecodeError):
            return out
        if not isinstance(parent, str):
            return out
        cur = cur.parent / parent
        if cur.resolve() in seen or not cur.is_file():
            return out
        seen.add(cur.resolve())
        out.append(cur)


_COMMENTED_OUT = re.compile(r"^[A-Za-z_][\w.-]*\s*=")
"""A comment line that is a key commented out (``# title_en = "..."``): no note of the key below it."""


def _collect_notes(node: Any, prefix: str, notes: dict[str, str], above: list[str] | None = None) -> None:
    # A comment on a key's line is its note; failing that, the comment lines right above the
    # key (no blank line between), as in "# Extra caseworkers: ... (KORA 2015, M)" above
    # cost_per_year: the report showed the table's source instead. Comments above a table's
    # header are headings: they name no number, and a table merges with its parent file's.
    # ``above`` is shared across tables: tomlkit keeps the lines above a header at the end
    # of the table before it.
    above = [] if above is None else above
    body = getattr(node, "body", None) or getattr(getattr(node, "value", None), "body", None)
    for key, item in body if body is not None else node.items():
        if key is None:
            line = (
                item.as_string().strip().lstrip("#").strip()
                if isinstance(item, tomlkit.items.Comment)
                else ""
            )
            if line and not _COMMENTED_OUT.match(line):
                above.append(line)
            else:  # a blank line, or a key commented out: the comments above belong to no key below
                above.clear()
            continue
        name = getattr(key, "key", key)  # a tomlkit Key's str() keeps the file's spacing
        path = f"{prefix}.{name}" if prefix else str(name)
        comment = getattr(getattr(item, "trivia", None), "comment", "") or ""
        header = isinstance(item, tomlkit.items.Table | tomlkit.items.AoT)
        text = comment.lstrip("#").strip() or ("" if header else " ".join(line for line in above if line))
        above.clear()
        if text:
            notes[path] = text
        elif not header:
            # Written here without a note: the note of the file this one extends was about its value,
            # not this one ("to 2043" beside a horizon that ends in 2038).
            for k in [k for k in notes if k == path or k.startswith(path + ".")]:
                del notes[k]
        if isinstance(item, dict):
            _collect_notes(item, path, notes, above)


def written_keys(path: str | Path) -> list[str]:
    """Every dotted key written in a scenario file and the files it extends.

    What is not among them is the model's default: the reports say so rather
    than give it the source of the table it sits in.
    """
    path = Path(path)
    keys: set[str] = set()

    def walk(data: Any, prefix: str) -> None:
        for key, value in data.items():
            here = f"{prefix}.{key}" if prefix else str(key)
            keys.add(here)
            if isinstance(value, dict):
                walk(value, here)

    for file in [path, *extends_chain(path)]:
        try:
            walk(tomllib.loads(file.read_text(encoding="utf-8-sig")), "")
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return sorted(keys)


def _read_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ScenarioError(str(path), "", "is a folder; give a scenario file (.toml)")
    if not path.is_file():
        raise ScenarioError(str(path), "", "file not found")
    try:
        # utf-8-sig: files saved by Windows Notepad start with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")  # err.start counts after a byte-order mark
        line = raw[: err.start].count(b"\n") + 1  # where the first byte that is not UTF-8 stands
        raise ScenarioError(
            str(path),
            "",
            f"not valid TOML: the file is not UTF-8 (line {line}: a letter such as æ, ø or å saved in "
            "another encoding); save it as UTF-8 (in Notepad: Save as, Encoding: UTF-8)",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        at = re.search(r"line (\d+)", str(err))  # Python 3.11's error has no lineno attribute
        lines = text.splitlines()
        line = lines[int(at.group(1)) - 1] if at and 0 < int(at.group(1)) <= len(lines) else ""
        hint = ""
        # The key on the line, in the table whose header stands last above it.
        heads = [h for h in lines[: int(at.group(1)) if at else 0] if re.match(r"\s*\[[^\[]", h)]
        table = heads[-1].strip().strip("[]").strip() if heads else ""
        written = re.match(r"\s*([\w-]+)\s*=", line)
        key = (f"{table}.{written.group(1)}" if table else written.group(1)) if written else ""
        many = re.match(r"\s*[\w-]+\s*=\s*([1-9]\d{0,2}(?:\.\d{3}){2,})\s*(?:#.*)?$", line)
        if many:  # 1.160.000 is no TOML number at all
            whole = many.group(1).replace(".", "")
            raise ScenarioError(
                str(path),
                key,
                f"{many.group(1)} reads as a decimal number in TOML; for thousands write {whole} or "
                f"{int(whole):_} (and 0.5 for a half)",
            ) from None
        if _DECIMAL_COMMA.search(line.split("#", 1)[0]):
            hint = (
                "; a decimal comma? TOML writes decimals with a point (1.54) and thousands as 1540 or 1_540"
            )
        elif re.search(r"=\s*-?\d{1,3}(?: \d{3})+\b", line.split("#", 1)[0]):
            hint = "; a space between thousands? TOML writes thousands as 30000 or 30_000"
        elif "Cannot overwrite a value" in str(err) and key:
            hint = f"; '{key}' is given twice: keep one of them"
        raise ScenarioError(str(path), key, f"not valid TOML: {err}{hint}") from None
    found = _danish_thousands(tomlkit.parse(text)) if _THOUSANDS_IN_TEXT.search(text) else None
    if found:
        key, number = found
        whole = number.replace(".", "")
        raise ScenarioError(
            str(path),
            key,
            f"{number} reads as a decimal number in TOML; for thousands write {whole} or "
            f"{int(whole):_} (and 0.5 for a half)",
        )
    return data


OWN_KEYS = ("name", "title", "title_en", "description")
"""What a file says about itself, never taken from the file it extends: a copy of the template without
its ``name`` must not run (and write its results) as the national baseline it extends."""


def _read_with_extends(path: Path, seen: list[Path]) -> tuple[dict[str, Any], str]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(p.name for p in [*seen, resolved])
        raise ScenarioError(str(path), "extends", f"circular extends: {chain}")
    data = _read_toml(path)
    parent = data.get("extends")
    if parent is None:
        return data, str(path)
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a file name (a string)")
    base_path = path.parent / parent
    if not base_path.is_file():
        import difflib

        near = sorted(p.name for p in base_path.parent.glob("*.toml")) if base_path.parent.is_dir() else []
        close = difflib.get_close_matches(base_path.name, near, n=1, cutoff=0.8)
        if close:  # a typo in the name of a file that is there
            meant = str(Path(parent).with_name(close[0]).as_posix())
            raise ScenarioError(str(path), "extends", f"file '{parent}' not found. Did you mean '{meant}'?")
        raise ScenarioError(
            str(path),
            "extends",
            f"file '{parent}' not found next to {path.name}; the path is relative to this file: copy "
            f"'{parent}' beside it, or write a relative path such as '../scenarios/{Path(parent).name}'",
        )
    base, _ = _read_with_extends(base_path, [*seen, resolved])
    # A typo in the base file is reported against the base file; other errors
    # in the merged data against the extending file, which made the mix.
    _check_unknown_keys(Scenario, base, str(base_path), "")
    merged = _deep_merge(base, data)
    for key in OWN_KEYS:  # the base's name and words are the base's: a file without its own has none
        if key not in data:
            merged.pop(key, None)
    own = data.get("discounting")
    if isinstance(own, dict) and "periods" in own and "source" not in own:
        merged["discounting"].pop("source", None)  # the base's source is for the base's rates
    return merged, str(path)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
