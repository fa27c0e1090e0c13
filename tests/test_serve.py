"""The what-if page's server (``trappesim serve``), through Starlette's test client.

The page in a real browser: tests/test_serve_browser.py.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import SCENARIOS, gone, kill_all, wait_until
from starlette.testclient import TestClient

import sim
from sim.cli import main
from sim.serve.app import MAX_BODY_BYTES, make_app
from sim.serve.levers import arms, levers, read
from sim.serve.library import Library
from sim.serve.whatif import ArmCache, compute
from sim.serve.words import word

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ("denmark-baseline.toml", "denmark-early-detection.toml")
MUNICIPAL = ("municipality-template.toml", "municipality-early-detection.toml")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A copy of the shipped scenarios: downloads are saved beside them."""
    out = tmp_path_factory.mktemp("served") / "scenarios"
    shutil.copytree(ROOT / "scenarios", out)
    return out


@pytest.fixture(scope="module")
def client(folder) -> TestClient:
    return TestClient(make_app(Library(folder), NATIONAL), raise_server_exceptions=False)


def form(**levers: str) -> dict[str, str]:
    return {"base": NATIONAL[0], "strategy": NATIONAL[1], "lang": "en", **levers}


def cards(html: str) -> dict[str, str]:
    """The headline cards' values by metric."""
    return dict(
        re.findall(
            r'data-metric="([a-z_]+)">\s*<div class="label">[^<]*</div>\s*<div class="value">([^<]*)<', html
        )
    )


def test_page_opens_with_the_files_figures(client):
    r = client.get("/")
    assert r.status_code == 200
    shown = cards(r.text)
    cmp = sim.compare(*(ROOT / "scenarios" / n for n in NATIONAL), engine="expected")
    kf = sim.key_figures(cmp, "da").set_index("metric")
    assert shown["npv"] == kf.loc["npv", "text"]  # the files' scenario language: Danish
    assert shown["payback_year"] == kf.loc["payback_year", "text"]


def test_effect_lever_changes_the_figures_and_the_url(client):
    full = cards(client.post("/whatif", data=form()).text)
    r = client.post("/whatif", data=form(effect="40"))
    assert r.status_code == 200
    half = cards(r.text)
    assert (
        half["npv"] != full["npv"] and half["placement_entries_avoided"] != full["placement_entries_avoided"]
    )
    url = r.headers["HX-Replace-Url"]
    assert parse_qs(urlsplit(url).query)["effect"] == ["40"]
    # The URL reopens the same state.
    assert cards(client.get(url).text) == half


@pytest.mark.parametrize(
    ("lever", "value", "lang", "words"),
    [
        ("cost", "abc", "en", "Write a number"),
        ("cost", "abc", "da", "Skriv et tal"),
        ("end", "abc", "da", "Skriv et tal, fx 2043"),  # its example was 2018: before the start, refused
        ("half_life", "abc", "en", "Write a number, e.g. 5"),  # not 0, which ends the effect at once
        ("start", "2025.5", "en", "whole number"),
        ("effect", "400", "en", "Allowed: 0 to 150"),
        ("discount", "-150", "da", "Tilladt"),
        (
            "perspective",
            "kingdom",
            "en",
            "Allowed: kommune (the municipality), region (the region), stat (the state), society",
        ),
    ],
)
def test_a_bad_value_gets_a_message_beside_its_field(client, lever, value, lang, words):
    r = client.post("/whatif", data={**form(**{lever: value}), "lang": lang})
    assert r.status_code == 200
    message = re.search(rf'id="err-{re.escape(lever)}"[^>]*>([^<]*)<', r.text).group(1)
    assert words in message
    assert "Traceback" not in r.text


def test_a_value_validation_refuses_is_said_beside_its_field(client):
    """The lever's own range allows it; the scenario's validation does not (end before start)."""
    r = client.post("/whatif", data=form(start="2030", end="2026"))
    message = re.search(r'id="err-end"[^>]*>([^<]*)<', r.text).group(1)
    assert "Not allowed" in message and "Traceback" not in r.text
    # The list above the figures names the field too (it may be off screen).
    listed = re.search(r'<ul class="problems"><li><a href="#f-end">([^<]*)<', r.text).group(1)
    assert html.unescape(listed).startswith("Last year of the programme (empty: to the horizon): Not allowed")


def test_levers_read_danish_decimal_commas():
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in NATIONAL)
    lv = levers(base, plan)
    state = read(lv, {"discount": "2,5", "cost": "400,5"}, "da")
    assert not state.errors and state.values["discount"] == 2.5 and state.values["cost"] == 400.5


@pytest.mark.parametrize(
    ("text", "da", "en"),
    [
        ("1.200", 1200.0, 1.2),  # a Danish thousands point; an English decimal point
        ("1,200", 1.2, 1200.0),
        ("3.5", 3.5, 3.5),  # not a group of three: the other language's decimal point
        ("3,5", 3.5, 3.5),
        ("-50.25", -50.25, -50.25),
        ("0,500", 0.5, 0.5),  # a group of three after a lone zero: no thousands in either language
        ("0.5000", 0.5, 0.5),
        ("1234,56", 1234.56, 1234.56),
        ("1.000,5", 1000.5, 1000.5),
        ("1 200", 1200.0, 1200.0),
        ("\u22124,5", -4.5, -4.5),
        ("100 %", 100.0, 100.0),  # as the field's unit says it
        ("3,5%", 3.5, 3.5),
        ("%", None, None),
        ("1.2.3", None, None),
        ("nan", None, None),
        ("inf", None, None),
        ("12 kr.", None, None),
        ("1" * 400, None, None),  # beyond any float
        ("9" * 30 + ".123,5", None, None),  # too many digits for babel's decimal context
    ],
)
def test_numbers_are_read_as_the_pages_language_writes_them(text, da, en):
    """Before, "1.200" (mio. kr.) on the Danish page was read as 1,2 without a word."""
    from sim.serve.levers import parse_number

    for lang, want in (("da", da), ("en", en)):
        if want is None:
            with pytest.raises(ValueError):
                parse_number(text, lang)
        else:
            assert parse_number(text, lang) == want


def test_a_danish_thousands_point_reaches_the_lever():
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in NATIONAL)
    lv = levers(base, plan)
    state = read(lv, {"cost": "1.200", "effect": "1.000"}, "da", typed=True)
    assert state.values["cost"] == 1200.0  # mio. kr.
    assert "effect" in state.errors  # 1.000 % is beyond the lever, and said so


def test_start_and_last_year_follow_the_horizon_asked_for():
    """Before, horizon 30 kept "2024 to 2043" for the start, and a start after a short horizon gave
    figures of 0 blamed on the payer."""
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in MUNICIPAL)
    lv = levers(base, plan)
    assert not read(lv, {"horizon": "30", "start": "2050"}, "en").errors
    assert read(lv, {"horizon": "5", "start": "2030"}, "en").errors == {"start": "Allowed: 2024 to 2028."}
    said = compute(lv, read(lv, {"horizon": "1"}, "da"), base, plan, "da").errors["horizon"]
    assert said.startswith("Strategien starter i 2025, efter det sidste år, der tælles (2024)")
    assert compute(lv, read(lv, {"horizon": "1", "start": "2024"}, "en"), base, plan, "en").ok


def test_messages_say_numbers_and_payers_in_the_pages_language():
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in MUNICIPAL)
    lv = levers(base, plan)
    da = read(lv, {"cost": "1000000", "perspective": "foo", "discount": "x"}, "da").errors
    assert da["cost"] == "Tilladt: 0 til 100.000\u00a0mio.\u00a0kr."
    assert (
        da["perspective"]
        == "Tilladt: kommune (kommunen), region (regionen), stat (staten), society (den samlede offentlige sektor)."
    )
    assert da["discount"] == "Skriv et tal, fx 3,5."


def test_a_discount_rate_set_on_the_page_is_not_credited_to_the_files_source():
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in MUNICIPAL)
    lv = levers(base, plan)
    view = compute(lv, read(lv, {"discount": "15"}, "da"), base, plan, "da")
    assert "15,0\u00a0% år 0-35" in view.notes[0]
    assert (
        "(første rente sat på hvad-nu-hvis-siden; filens: 3,5\u00a0%, Finansministeriet 2021)"
        in view.notes[0]
    )


def test_the_pages_own_urls_are_read_as_written_in_every_language(client):
    """The URL, its variants and the language links carry "2.125" for two and an eighth: read as
    that on the Danish page too (a typed field is read the Danish way; a URL is not typed). Before,
    a saved variant of DKK 2,125 m came back as DKK 2,125 m times a thousand."""
    data = {**form(cost="2,125"), "lang": "da", "action": "save"}
    url = client.post("/variants", data=data, follow_redirects=False).headers["location"]
    assert parse_qs(urlsplit(url).query)["cost"] == ["2.125"]
    page = client.get(url).text
    assert 'value="2,125"' in page  # the field, in Danish
    assert "2,125\u00a0mio.\u00a0kr." in html.unescape(page)  # the variant's change, as read
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in NATIONAL)
    assert (
        read(levers(base, plan), {"hr.preventive.home": "1.125"}, "da").values["hr.preventive.home"] == 1.125
    )


def test_a_lever_at_the_files_value_changes_nothing():
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in NATIONAL)
    lv = levers(base, plan)
    raw = {x.id: x.shown(x.default) for x in lv}
    state = read(lv, raw, "en")
    assert state.moved == () and not state.errors
    view = compute(lv, state, base, plan, "en")
    assert view.arms[0] is base and view.arms[1] is plan


def test_cached_baseline_arm_gives_the_same_numbers():
    base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in NATIONAL)
    lv = levers(base, plan)
    cache = ArmCache()
    for effect in ("100", "60", "60"):
        state = read(lv, {"effect": effect, "perspective": "society"}, "en")
        cached = compute(lv, state, base, plan, "en", cache, ("base",))
        plain = compute(lv, state, base, plan, "en")
        rows = lambda v: [(r["metric"], r["centre"], r["text"]) for r in v.figures]  # noqa: E731
        assert rows(cached) == rows(plain)


@pytest.mark.parametrize(
    ("changes", "lang"),
    [({"effect": "50", "cost": "300"}, "da"), ({"horizon": "15", "discount": "2.5", "start": "2027"}, "en")],
)
def test_downloaded_files_reproduce_the_page_exactly(client, folder, tmp_path, changes, lang):
    """trappesim compare on the downloaded files gives the page's numbers to the last digit."""
    base, plan = (sim.load_scenario(folder / n) for n in NATIONAL)
    lv = levers(base, plan)
    view = compute(lv, read(lv, changes, "en"), base, plan, "en")
    page = {r["metric"]: r["centre"] for r in view.figures}
    files = {}
    pair_moved = "horizon" in changes
    for what in ("strategy.toml", "baseline.toml"):
        r = client.get(f"/download/{what}", params=form(**changes, lang=lang))
        if what == "baseline.toml" and not pair_moved:
            assert r.status_code == 404 and word("baseline_unchanged", lang) in r.text
            continue
        assert r.status_code == 200
        name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"]).group(1)
        files[what] = folder / name
        files[what].write_text(r.text, encoding="utf-8")  # saved where the file says it belongs
    text = files["strategy.toml"].read_text()
    # Its comments in the page's language: the reports show a changed value's comment as its source.
    stamp = {"en": "what-if page on {} (was", "da": "hvad-nu-hvis-siden den {} (var"}[lang]
    assert stamp.format(date.today().isoformat()) in text
    if "cost" in changes:  # 300 mio. kr. a year as the file writes 21_000_000, not 300000000.0
        assert re.search(r"^cost_per_year = 300_000_000 ", text, re.M), text
    assert "# the partnership evaluation (2018)" in text or "horizon" in changes  # comments kept
    # Named as its file, so that its summary and results folder are told from the original's.
    assert re.search(r'^name = "denmark-early-detection-whatif"', text, re.M), text
    base_file = files["baseline.toml"] if pair_moved else folder / NATIONAL[0]
    cmp = sim.compare(base_file, files["strategy.toml"], engine="expected")
    again = sim.key_figures(cmp, "en").set_index("metric")["centre"].to_dict()
    assert again == page
    out = tmp_path / "out"
    command = [
        "compare",
        str(base_file),
        str(files["strategy.toml"]),
        "--engine",
        "expected",
        "--out",
        str(out),
    ]
    if lang == "da":  # as a planner runs it: a process of its own, which shares no cache with the page
        cli = subprocess.run(
            [sys.executable, "-m", "sim", *command], capture_output=True, text=True, cwd=tmp_path
        )
        assert cli.returncode == 0, cli.stderr
    else:  # the command's entry point in this process (its charts built, not rendered: tests/conftest.py)
        assert main(command) == 0
    assert sim.load_results(out).summary.loc["npv", "mean"] == page["npv"]
    # The report of the state names the files as downloaded, each with the hash of its bytes.
    report = client.get("/download/report.html", params=form(**changes, lang=lang)).text
    assert "trappesim-serve-" not in report and str(tmp_path) not in report
    assert ("what-if page on" in report) == (lang == "en") and ("hvad-nu-hvis-siden den" in report) == (
        lang == "da"
    )
    for what, path in files.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"<code>{path.name}</code><br><code>sha256 {digest}</code>" in report, what


def test_a_report_names_no_working_copy_under_a_linked_temporary_folder(client, tmp_path, monkeypatch):
    """As on macOS, where the temporary folder is reached through a link (/var -> /private/var)."""
    import tempfile

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "link"))
    report = client.get("/download/report.html", params=form(horizon="15")).text  # both files made
    assert "whatif.toml" in report and "trappesim-serve-" not in report


def test_a_report_names_the_files_it_leaves_as_they_are_by_name_not_the_servers_path(client, folder):
    """The workbook's provenance gave 'sha256 /work/main/scenarios/denmark-baseline.toml' for a baseline
    the state left alone (the strategy by its name only)."""
    import io

    from openpyxl import load_workbook

    book = client.get("/download/report.xlsx", params=form(effect="80")).content
    cells = [str(c.value) for ws in load_workbook(io.BytesIO(book)) for row in ws.iter_rows() for c in row]
    assert any(c == f"sha256 {NATIONAL[0]}" for c in cells)
    assert not any(str(folder) in c for c in cells)
    # Nor what the strategy itself extends (the lifetime strategy extends the municipal strategy).
    pair = {"base": "municipality-lifetime.toml", "strategy": "municipality-early-detection-lifetime.toml"}
    book = client.get("/download/report.xlsx", params={**pair, "lang": "en", "effect": "80"}).content
    cells = [str(c.value) for ws in load_workbook(io.BytesIO(book)) for row in ws.iter_rows() for c in row]
    assert any(c == "sha256 municipality-early-detection.toml" for c in cells)
    assert not any(str(folder) in c for c in cells)


def test_a_variant_with_a_field_that_cannot_be_read_is_not_saved(client):
    """ "Save as variant" with "abc" in a field saved the files' value in its place, as a duplicate of
    the last variant, pushing the oldest out, without a word."""
    saved = ["effect=50&start=2027", "cost=700", "discount=6"]
    data = {**form(cost="abc"), "v": saved, "action": "save", "\x00typed": "1"}
    r = client.post("/variants", data=data, follow_redirects=False)
    assert r.status_code == 422 and "location" not in r.headers
    assert word("save_refused", "en") in html.unescape(r.text)
    assert re.search(r'id="err-cost"[^>]*>[^<]*Write a number', r.text)
    assert r.text.count("Variant ") >= 3  # all three kept, shown
    # The same state saved twice is one variant.
    again = client.post(
        "/variants", data={**form(discount="6"), "v": saved, "action": "save"}, follow_redirects=False
    )
    assert parse_qs(urlsplit(again.headers["location"]).query)["v"] == saved


def test_variants_live_in_the_url(client):
    r = client.post("/variants", data={**form(effect="50"), "action": "save"}, follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    assert parse_qs(urlsplit(url).query)["v"] == ["effect=50"]
    page = client.get(url).text
    assert 'id="variants"' in page and "Variant 1" in page
    # Opening a variant keeps the variants beside it (its link dropped them all).
    opened = re.search(r'<a href="(/\?[^"]*)">Open</a>', page).group(1)
    assert parse_qs(urlsplit(html.unescape(opened)).query)["v"] == ["effect=50"]
    # A variant may move the horizon, the payer or the discount rate: each column says its own.
    q = parse_qs(urlsplit(url).query)
    data = {**form(discount="4", horizon="30"), "v": q["v"], "action": "save"}
    two = client.get(client.post("/variants", data=data, follow_redirects=False).headers["location"]).text
    terms = html.unescape(two[two.index('<tr class="terms">') :]).replace("\u00a0", " ")
    terms = terms[: terms.index("</tr>")]
    assert terms.count("2018-2043") == 1 and terms.count("2018-2047") == 1, terms
    assert "real rate of 4.0 % years 0-35" in terms and "(first rate set on the what-if page" in terms
    assert "3.5 % years 0-35" in terms and terms.count("municipal perspective") == 2
    # At most three: a fourth drops the oldest.
    for effect in ("60", "70", "80"):
        q = parse_qs(urlsplit(url).query)
        data = {**form(effect=effect), "v": q.get("v", []), "action": "save"}
        url = client.post("/variants", data=data, follow_redirects=False).headers["location"]
    assert parse_qs(urlsplit(url).query)["v"] == ["effect=60", "effect=70", "effect=80"]


@pytest.mark.parametrize(
    "name",
    ["../pyproject.toml", "/etc/passwd", "..%2Fpyproject.toml", "data/../../pyproject.toml", "nope.toml"],
)
def test_no_path_from_a_request_reaches_the_file_system(client, name):
    r = client.get("/", params={"base": name, "strategy": NATIONAL[1]})
    assert r.status_code == 404
    assert "not one of the scenario files this page serves" in r.text and "Traceback" not in r.text
    assert client.get(f"/download/strategy.toml?base={name}&strategy={NATIONAL[1]}").status_code == 404


def test_a_file_that_cannot_be_read_is_not_called_a_pair_that_cannot_be_compared(folder, tmp_path):
    shutil.copytree(folder, tmp_path / "s")
    (tmp_path / "s" / "broken.toml").write_text("[intervention\n", encoding="utf-8")
    client = TestClient(make_app(Library(tmp_path / "s"), NATIONAL))
    r = client.get("/", params={"base": NATIONAL[0], "strategy": "broken.toml", "lang": "da"})
    assert r.status_code in (400, 404) and "Traceback" not in r.text
    assert "kan ikke sammenlignes" not in r.text


def test_a_pair_that_cannot_be_compared_is_said_in_the_pages_language(client):
    r = client.get("/", params={"base": NATIONAL[0], "strategy": MUNICIPAL[1], "lang": "da"})
    assert r.status_code == 400 and '<html lang="da">' in r.text
    assert "Siden kan ikke vises" in r.text and "Disse to filer kan ikke sammenlignes" in r.text
    assert "(baseline 2018-2043, strategy 2024-2043)" in r.text  # which years differ
    r = client.get("/", params={"base": "nope.toml", "strategy": NATIONAL[1], "lang": "da"})
    assert r.status_code == 404 and "Siden kender ikke denne fil" in r.text


def test_library_lists_pairs_and_broken_files(folder, tmp_path):
    shutil.copytree(folder, tmp_path / "s")
    (tmp_path / "s" / "broken.toml").write_text("horizon_years = [", encoding="utf-8")
    pairs, broken = Library(tmp_path / "s").pairs()
    assert ("denmark-baseline.toml", "denmark-early-detection.toml") in {(p.base, p.strategy) for p in pairs}
    assert "broken.toml" in broken
    page = TestClient(make_app(Library(tmp_path / "s"))).get("/")
    assert (
        page.status_code == 200 and "denmark-early-detection.toml" in page.text and "broken.toml" in page.text
    )


def test_requests_are_size_limited_and_get_changes_nothing(client):
    assert client.post("/whatif", content=b"x" * (MAX_BODY_BYTES + 1)).status_code == 413
    assert client.get("/?" + "a=b&" * 5000).status_code == 414
    for path in ("/whatif", "/simulate", "/variants", "/breakeven"):
        assert client.get(path).status_code == 405  # state changes only on POST
    assert client.post("/download/strategy.toml", data=form()).status_code == 405


def test_static_files_are_vendored(client):
    page = client.get("/").text
    scripts = re.findall(r'<script src="([^"]+)"', page) + re.findall(
        r'<link rel="stylesheet" href="([^"]+)"', page
    )
    assert scripts and all(s.startswith("/static/") for s in scripts)  # nothing from another host
    for s in scripts:
        assert client.get(s).status_code == 200
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page


def test_break_even_effect_is_marked(client):
    r = client.post("/breakeven", data=form())
    share = float(re.search(r'data-share="([0-9.]+)"', r.text).group(1))
    be = sim.break_even(*(ROOT / "scenarios" / n for n in NATIONAL), on="effect")
    assert share == pytest.approx(100 * be.value)
    assert f"{round(100 * be.value)}\u00a0% of the assumed effect" in r.text


def test_simulation_runs_in_the_background_and_can_be_cancelled(folder):
    app = make_app(
        Library(folder), ("municipality-template.toml", "municipality-early-detection.toml"), workers=1
    )
    client = TestClient(app)
    data = {
        "base": "municipality-template.toml",
        "strategy": "municipality-early-detection.toml",
        "lang": "en",
        "discount": "4",
    }
    before = client.get("/download/report.html", params=data).text  # the expected engine's
    # Started on the Danish page, followed and downloaded on the English one.
    r = client.post("/simulate", data={**data, "lang": "da"})
    job = re.search(r'hx-get="/jobs/(run\d+)', r.text).group(1)
    deadline = time.monotonic() + 120
    while "Simulated:" not in r.text:
        assert time.monotonic() < deadline and "failed" not in r.text
        time.sleep(0.3)
        r = client.get(f"/jobs/{job}", params=data)
    assert "kf" in r.text and "replications" in r.text  # the intervals table, and how many runs
    # The reports of that state now carry the simulation's intervals.
    assert 'id="job-html"' in r.text
    report = client.get("/download/report.html", params=data).text
    assert "Precision" in report and "Range of outcomes" in report
    # The rate's source note in the report's language, not the one the run was started in.
    assert "first rate set on the what-if page" in report and "første rente" not in report
    # The arms are named as the downloaded files, with or without the run (it kept the originals' names).
    name_row = re.compile(r"<code class=\"key\">name</code>.*?</tr>", re.S)
    assert name_row.search(report).group() == name_row.search(before).group()
    assert "municipality-early-detection-whatif</td>" in name_row.search(report).group()
    # Started again, and cancelled at once: it stops after the replication it waits for.
    r = client.post("/simulate", data={**data, "effect": "50"})
    job = re.search(r'hx-get="/jobs/(run\d+)', r.text).group(1)
    client.post(f"/jobs/{job}/cancel", data=data)
    state = app.state.page.jobs.get(job)
    deadline = time.monotonic() + 60
    while state.state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state.state in ("cancelled", "done")


def test_fifty_concurrent_lever_changes_are_all_answered(client):
    """A bounded load test: 50 changes at once, each answered correctly (the time is benchmarks/serve.py's)."""

    def change(effect: int) -> tuple[int, str]:
        r = client.post("/whatif", data=form(effect=str(effect)))
        return r.status_code, cards(r.text).get("npv", "")

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(change, range(50, 100)))
    assert all(code == 200 and npv for code, npv in answers)
    assert len({npv for _, npv in answers}) > 40  # each its own answer, not a neighbour's


def test_serve_command_refuses_bad_input_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (ROOT / "scenarios" / NATIONAL[1]).read_text().replace("ramp_up_years = 3", "ramp_up_yeras = 3")
    )
    shutil.copy(ROOT / "scenarios" / NATIONAL[0], tmp_path / NATIONAL[0])
    r = subprocess.run(
        [sys.executable, "-m", "sim", "serve", str(tmp_path / NATIONAL[0]), str(bad), "--no-browser"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "ramp_up_yeras" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "sim", "serve", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "two files" in r.stderr


def test_serve_warns_when_listening_beyond_this_machine():
    """--host other than 127.0.0.1 warns before anything else (the port here is in use: exit 2 after it)."""
    import socket

    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "sim", "serve", "--host", "0.0.0.0", "--port", str(port), "--no-browser"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert "warning: listening on 0.0.0.0" in r.stderr
    assert r.returncode == 2 and "choose another --port" in r.stderr


def test_library_skips_hidden_results_and_deep_folders(tmp_path):
    """Serving a project's root must not walk (or list) its virtual environment or results."""
    for rel in (
        ".venv/lib/pyproject.toml",
        "results/run/x.toml",
        "a/b/c/d/deep.toml",
        "a/near.toml",
        "top.toml",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("name = 'x'\n", encoding="utf-8")
    assert sorted(Library(tmp_path).files()) == ["a/near.toml", "top.toml"]


def test_download_names_are_safe_in_the_header(client):
    from sim.serve.app import _attachment

    header = _attachment('strat"egi;æ.toml')["Content-Disposition"]
    assert header.startswith(
        "attachment; filename=\"strat_egi__.toml\"; filename*=UTF-8''strat%22egi%3B%C3%A6.toml"
    )


def test_a_file_downloaded_from_a_downloaded_file_keeps_one_whatif_mark():
    from sim.serve.files import as_downloaded, what_if_name

    assert what_if_name(Path("x/denmark-early-detection.toml")) == "denmark-early-detection-whatif.toml"
    assert what_if_name(Path("denmark-early-detection-whatif.toml")) == "denmark-early-detection-whatif.toml"
    base = sim.load_scenario(SCENARIOS / "municipality-template.toml")
    twice = as_downloaded(as_downloaded((base, base), {"baseline": ("b", "")}), {"baseline": ("b", "")})
    assert [a.name for a in twice] == [base.name + "-whatif"] * 2


def test_a_payer_the_files_leave_alone_is_said_so(client):
    """In the shipped files the municipality pays every line: the region's figures are all 0, and
    society's are the municipality's; the page says why rather than looking broken."""
    region = client.post("/whatif", data=form(perspective="region")).text
    assert "neither pays for the strategy nor saves by it" in region
    be = client.post("/breakeven", data=form(perspective="region")).text
    assert "nothing is touched" in be and "data-share" not in be  # not "pays back even without any effect"
    society = html.unescape(client.post("/whatif", data=form(perspective="society")).text)
    assert "the figures for the public sector as a whole are the municipal ones" in society
    assert "payer-note" not in client.post("/whatif", data=form()).text


def test_break_even_beyond_the_lever_is_said_so():
    from sim.serve.whatif import break_even_text

    def said(theta: float, lang: str = "en") -> str:
        return break_even_text(theta, lang).replace("\u00a0", " ")

    beyond = "does not pay back within the horizon at up to 150 % of the assumed effect"
    assert said(2.5) == beyond + " (only from 250 %)"
    # Far beyond the lever a share reads as a finding it is not ("from 4,271 %"): given as "more than".
    assert said(42.71) == beyond + " (only from more than 600 %)"
    assert said(0.36, "da") == "tjener sig hjem fra 36 % af den antagne effekt"
    # A hazard ratio of 0 stays 0 at any positive share: "from 0 %" beside the NPV of no effect misled.
    assert (
        said(1e-9) == "pays back from just above 0 % of the assumed effect (without any effect it does not)"
    )
    assert said(0.0) == "pays back even without any effect"
    # Whatever rounds to "0 %" (half to even: 0.005 too), and nothing that does not.
    assert said(0.005).startswith("pays back from just above 0 %") and said(0.006).endswith(
        "from 1 % of the assumed effect"
    )


def test_every_message_at_once_in_the_levers_words(client):
    """An unreadable field and a value validation refuses are both said, the key named as the lever is."""
    r = client.post("/whatif", data=form(effect="1,5e", end="2020"))
    effect = re.search(r'id="err-effect"[^>]*>([^<]*)<', r.text).group(1)
    end = html.unescape(re.search(r'id="err-end"[^>]*>([^<]*)<', r.text).group(1))
    assert "Write a number" in effect
    assert "'Start year'" in end and "start_year" not in end


def test_variants_show_values_as_a_danish_reader_reads_them(client):
    url = client.post(
        "/variants",
        data={**form(cost="657.6", perspective="society"), "lang": "da", "action": "save"},
        follow_redirects=False,
    ).headers["location"]
    page = client.get(url).text
    assert "657,6\u00a0mio.\u00a0kr." in page and "den samlede offentlige sektor" in page
    assert 'value="657,6"' in page  # the field too, with a decimal comma


def test_a_strategy_through_places_is_not_shown_as_only_its_cost(folder):
    """The live figures lift limits on places: a strategy that adds places then has no effect, and the
    page says so above the figures (the simulation counts the places)."""
    pair = ("municipality-foster-shortage.toml", "municipality-foster-recruitment.toml")
    client = TestClient(make_app(Library(folder), pair))
    page = html.unescape(client.get("/", params={"lang": "en"}).text)
    assert "works through places on steps with a limit" in page and "lift the limits on places" in page
    # Its cards (0 avoided, its cost as the NPV) are marked as cost without effect, not shown as a result.
    start = page.index('<div class="cost-only"')
    cards = page[start : page.index('<p class="note">', start)]
    assert "Its cost without its effect, not its result" in cards and 'data-metric="npv"' in cards
    r = client.post(
        "/whatif", data={"base": pair[0], "strategy": pair[1], "lang": "en", "places.foster": "20"}
    )
    assert r.status_code == 200 and 'id="err-places.foster"' in r.text
    assert "works through places" not in client.post("/whatif", data=form()).text
    # Its reports come from the simulation: not offered, and refused in words, until it has run.
    assert 'id="dl-html"' not in page
    r = client.get("/download/report.html", params={"lang": "en"})
    assert r.status_code == 409 and "run it for these levers first" in r.text


def test_the_places_a_strategy_buys_are_in_its_live_cost(folder):
    """The live figures lift the limits, not the cost of the places the strategy pays for: its
    investment is the simulation's (the places' cost does not depend on chance)."""
    from sim.serve.whatif import comparison

    base, plan = (sim.load_scenario(folder / f) for f in ("municipality-foster-shortage.toml",
                                                          "municipality-foster-recruitment.toml"))  # fmt: skip
    live = comparison(base, plan, "kommune").summary.loc["investment_pv", "mean"]
    des = sim.compare(base, plan, replications=1, seed=1).summary.loc["investment_pv", "mean"]
    assert live == pytest.approx(des, rel=1e-12) and live > 20e6  # the places: about DKK 32 m, not 1 m


def test_a_strategy_of_places_alone_says_the_effect_size_scales_nothing(folder):
    """Recruiting foster families changes no rate: the effect lever's break-even note says so, not
    "not found"; an extra share of new cases gives it an effect to scale."""
    pair = ("municipality-foster-shortage.toml", "municipality-foster-recruitment.toml")
    client = TestClient(make_app(Library(folder), pair), raise_server_exceptions=False)
    data = {"base": pair[0], "strategy": pair[1], "lang": "en"}
    assert word("be_no_effect", "en") in client.post("/breakeven", data=data).text
    r = client.post("/breakeven", data={**data, "extra_share": "5"})
    assert r.status_code == 200 and word("be_no_effect", "en") not in r.text


def test_library_reads_a_file_again_when_it_or_its_parent_changes(folder, tmp_path):
    shutil.copytree(folder, tmp_path / "s")
    lib = Library(tmp_path / "s")
    first = lib.load(NATIONAL[1])
    assert lib.load(NATIONAL[1]) is first  # unchanged: kept
    parent = tmp_path / "s" / NATIONAL[0]
    parent.write_text(parent.read_text().replace("horizon_years = 26", "horizon_years = 20"))

    os.utime(parent, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    again = lib.load(NATIONAL[1])
    assert again is not first and again.horizon_years == 20
    # The file itself (its size and time come from one stat).
    own = tmp_path / "s" / NATIONAL[1]
    own.write_text(own.read_text() + "\n")
    os.utime(own, ns=(time.time_ns() + 2 * 10**9, time.time_ns() + 2 * 10**9))
    third = lib.load(NATIONAL[1])
    assert third is not again and lib.load(NATIONAL[1]) is third


@pytest.mark.parametrize(
    "data",
    [
        {"effect": "55"},
        {"effect": "55", "start": "2029", "lang": "da"},
        {"start": "2029", "cost": "x"},  # a message beside a field
        {"horizon": "3"},  # one that validation gives
    ],
)
def test_the_answer_to_a_move_carries_the_same_messages_as_the_page(folder, data):
    """The answer to a lever move builds only the fields' messages: the same HTML as from every field's words."""
    from sim.serve import app as A

    page = A.Page(Library(folder), NATIONAL)
    ctx = A.Context(page, {**form(**data), A.TYPED: "1"}, [])
    view = A._view(page, ctx)
    full = A._ENV.get_template("results.html").render(**A._shown(page, ctx, view), oob=True)
    light = A._ENV.get_template("results.html").render(**A._shown(page, ctx, view, fields=False), oob=True)
    assert light == full and 'hx-swap-oob="true"' in light


def test_worker_processes_give_the_same_page(folder):
    """``trappesim serve`` computes lever moves in a process per core: the page is the same, byte for byte."""
    here = TestClient(make_app(Library(folder), NATIONAL))
    app = make_app(Library(folder), NATIONAL, live=1)
    try:
        there = TestClient(app)
        for data in (form(effect="55"), form(effect="55", lang="da"), form(start="2029", cost="x")):
            a, b = here.post("/whatif", data=data), there.post("/whatif", data=data)
            assert a.status_code == b.status_code == 200
            assert a.text == b.text
        v = "effect=70"
        assert here.get("/", params={**form(), "v": v}).text == there.get("/", params={**form(), "v": v}).text
    finally:
        app.state.page.close()


def test_a_state_seen_before_is_answered_without_computing_again(folder, monkeypatch):
    import sim.serve.app as A

    computed = []
    real = A._view
    monkeypatch.setattr(
        A, "_view", lambda page, ctx, state=None: computed.append(1) or real(page, ctx, state)
    )
    with TestClient(make_app(Library(folder), NATIONAL)) as client:  # one event loop, as under uvicorn
        first = client.post("/whatif", data=form(effect="61"))
        assert client.post("/whatif", data=form(effect="61")).text == first.text
        assert len(computed) == 1
        client.post("/whatif", data=form(effect="61", lang="da"))  # another language: its own words
        assert len(computed) == 2
        for _ in range(2):  # a value the page cannot read is not kept: its message quotes what was typed
            client.post("/whatif", data=form(effect="61", cost="abc"))
        assert len(computed) == 4


def test_requests_for_a_state_being_computed_wait_for_that_computation(folder):
    app = make_app(Library(folder), NATIONAL, live=1)
    page, submitted = app.state.page, []
    real = page.live.submit
    page.live.submit = lambda fn, *args: submitted.append(args) or real(fn, *args)
    try:
        with TestClient(app) as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
            texts = set(pool.map(lambda _: client.post("/whatif", data=form(effect="62")).text, range(8)))
    finally:
        page.close()
    assert len(texts) == 1 and len(submitted) == 1


def test_a_file_changed_on_disk_gives_new_figures_for_the_same_state(folder, tmp_path):

    shutil.copytree(folder, tmp_path / "s")
    client = TestClient(make_app(Library(tmp_path / "s"), NATIONAL))
    before = cards(client.post("/whatif", data=form(effect="80")).text)
    break_even = client.post("/breakeven", data=form(effect="80")).text
    assert "pays back from" in break_even
    path = tmp_path / "s" / NATIONAL[1]
    text = path.read_text()
    assert "cost_per_year" in text
    changed = re.sub(r"(\bcost_per_year\s*=\s*)([0-9_.e]+)", lambda m: m[1] + "1_000_000_000", text, count=1)
    path.write_text(changed)
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    after = cards(client.post("/whatif", data=form(effect="80")).text)
    assert after["npv"] != before["npv"]
    # The break-even effect is searched again: a billion a year is never paid back.
    assert client.post("/breakeven", data=form(effect="80")).text != break_even


@pytest.mark.parametrize(
    "changes",
    [
        {"intervention.end_year": 2020},
        {"intervention.fading": {"half_life_years": 2.0, "after_year": 2000}},
        {"discounting.to_year": 1990},
        {"horizon_years": 0},
        {"intervention.ramp_up_years": 60},
        {"discounting.periods": [{"from_year": 0, "rate": 1.5}]},
        {"discounting.periods": [{"from_year": 0, "rate": -1.5}]},
    ],
)
def test_validation_messages_a_lever_can_cause_are_said_in_danish(changes):
    """Every pattern of :data:`SCENARIO_DA` meets a message that validation really writes."""
    from sim.errors import ScenarioError
    from sim.serve.words import scenario_message

    strategy = sim.load_scenario(ROOT / "scenarios" / NATIONAL[1])
    with pytest.raises(ScenarioError) as err:
        strategy.with_changes(changes)
    said = scenario_message(err.value.message, "da")
    assert said != err.value.message
    assert not re.search(r"\b(must|got|before|year|at least|at most|above|below)\b", said), said
    assert scenario_message(err.value.message, "en") == err.value.message


def test_a_horizon_before_the_discount_year_is_said_beside_the_horizon(client):
    for lang, expected in (("da", "Tidshorisonten skal nå 2024"), ("en", "The horizon must reach 2024")):
        r = client.post("/whatif", data=form(horizon="3", lang=lang))
        errors = dict(re.findall(r'class="error" id="err-([a-z_.]+)"[^>]*>([^<]+)<', r.text))
        assert html.unescape(errors["horizon"]).startswith(expected)
        assert "discount" not in errors
    danish = client.post("/whatif", data=form(end="2020", lang="da")).text
    assert "må ikke ligge før" in html.unescape(danish)


def test_the_horizon_message_quotes_the_year_of_the_file_it_is_about(folder):
    """A strategy discounted to a later year than its baseline: its own year is the one said."""
    base = sim.load_scenario(folder / NATIONAL[0])
    later = base.discounting.to_year + 2
    plan = sim.load_scenario(folder / NATIONAL[1]).with_changes({"discounting.to_year": later})
    lv = levers(base, plan)
    horizon = (
        base.discounting.to_year - base.start_year + 1
    )  # reaches the baseline's year, not the strategy's
    said = arms(lv, read(lv, {"horizon": str(horizon)}, "en"), base, plan, "en")
    last = base.discounting.to_year
    assert said == {"horizon": word("err_discount_year", "en", year=later, last=last)}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_killed_server_leaves_no_worker_behind(folder):
    """kill -9 of the server (no clean-up can run in it): its worker processes end too."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from sim.serve.app import make_app\n"
        "from sim.serve.library import Library\n"
        f"page = make_app(Library(Path({str(folder)!r})), {NATIONAL!r}, live=2).state.page\n"
        "page.live.submit(int).result()\n"
        "print(*page.live._processes, flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    workers = [int(w) for w in proc.stdout.readline().split()]
    assert len(workers) == 2

    try:
        assert not any(gone(w) for w in workers)
        proc.kill()
        proc.wait(10)
        took = wait_until(lambda: all(gone(w) for w in workers), timeout=5)
        assert took is not None, "workers still running 5 s after kill -9 of the server"
    finally:
        proc.kill()
        kill_all(set(workers))


def test_a_worker_that_dies_is_replaced_and_its_move_answered(folder):
    app = make_app(Library(folder), NATIONAL, live=1)
    page = app.state.page
    try:
        with TestClient(app) as client:
            assert client.post("/whatif", data=form(effect="57")).status_code == 200
            for process in list(page.live._processes.values()):  # killed, as by the OOM killer
                process.kill()
                process.join(10)
            r = client.post("/whatif", data=form(effect="58"))  # a broken pool: answered here
            assert r.status_code == 200 and cards(r.text)["npv"]
            r = client.post("/whatif", data=form(effect="59"))  # new workers
            assert r.status_code == 200 and cards(r.text)["npv"]
    finally:
        page.close()


def test_strategies_runs_side_by_side_give_the_same_bits():
    """The page's workers compute a strategy's new runs at once (RUNS_AT_ONCE): the same numbers, bit
    for bit, as one run at a time, with the baseline's runs in the cache or not."""
    import numpy as np

    from sim.engines import expected
    from sim.model.staircase import compile_staircase
    from sim.serve.whatif import uncapped

    for pair, moves in (
        (NATIONAL, [{"effect": "55.5"}, {"effect": "120", "ramp": "5", "half_life": "4"}, {"start": "2019"}]),
        (("municipality-lifetime.toml", "municipality-early-detection-lifetime.toml"), [{"effect": "70"}]),
    ):
        base, plan = (sim.load_scenario(ROOT / "scenarios" / n) for n in pair)
        lv = levers(base, plan)
        for raw in moves:
            a, b = (compile_staircase(uncapped(s)) for s in arms(lv, read(lv, raw, "en"), base, plan, "en"))
            out = []
            try:
                for at_once, cached in ((False, False), (True, False), (True, True)):
                    expected.RUNS_AT_ONCE = at_once
                    expected._RUNS.clear()
                    if cached:
                        expected.expected_measures(a)
                    out.append(expected.expected_measures(b))
            finally:
                expected.RUNS_AT_ONCE = False
                expected._RUNS.clear()
            for m in out[0]:
                assert all(np.array_equal(out[0][m], o[m], equal_nan=True) for o in out[1:]), (raw, m)
            # The initial stock on the grid is kept (a strategy's states share their baseline's): as made.
            expected._stock_on_grid.cache_clear()
            fresh = expected.expected_measures(b)
            assert all(np.array_equal(fresh[m], out[0][m], equal_nan=True) for m in fresh)


@pytest.mark.parametrize("value", [1.5e-05, 0.9, 2.5, 100_000.0, 12_345.678])
@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_field_reads_back_the_value_it_shows(value, lang):
    """What a field shows ("100.000", "0,9") is read back as the same number."""
    from sim.serve.levers import Lever, parse_number

    lever = Lever("x", "effect", "percent", 1.0, 0.0, 1e6, 0.1)
    assert parse_number(lever.display(value, lang), lang) == value


def test_other_files_lists_the_pairs_on_a_page_started_with_two(client):
    """The link went to "/", which shows the pair the page was started with again."""
    page = client.get("/", params={"lang": "da"}).text
    link = re.search(r'<a href="([^"]+)" class="other">andre filer</a>', page).group(1)
    listed = html.unescape(client.get(link).text)
    assert "Vælg en strategi og dens basis" in listed
    assert "municipality-early-detection.toml" in listed and "denmark-early-detection.toml" in listed
    assert "Choose a strategy and its baseline" in client.get("/pairs", params={"lang": "en"}).text
    # "Or choose two files" starts on a pair that opens, not the first file twice (a baseline alone).
    chosen = dict(
        re.findall(r'<select name="(base|strategy)">.*?<option selected>([^<]+)</option>', listed, re.S)
    )
    opened = client.get("/", params={**chosen, "lang": "da"})
    assert opened.status_code == 200 and chosen["base"] != chosen["strategy"]


def test_notes_after_a_run_name_no_option_the_page_has_no_field_for():
    from sim.outputs import language as L
    from sim.serve.words import without_options

    for lang in ("en", "da"):
        assert "--" not in without_options(L.t("legend_rough_range", lang, n=10))
    assert (
        without_options("flere kørsler (--replications) fastlægger dem.") == "flere kørsler fastlægger dem."
    )
    assert without_options("would reach it (--max-replications sets the most).") == "would reach it."
    assert without_options("are not in it (see trappesim psa).") == "are not in it."
    assert without_options("a 2 % aim (± 3)") == "a 2 % aim (± 3)"


def test_a_payer_with_nothing_at_stake_gets_a_dash_on_its_card_and_the_words_beneath(client):
    """ "– (nothing invested or saved from this perspective)" in the card's big type ran to five lines."""
    r = client.post("/whatif", data=form(perspective="region"))
    card = re.search(r'data-metric="payback_year">(.*?)</div>\s*</div>', r.text, re.S).group(1)
    assert '<div class="value">–</div>' in card and "nothing invested or saved from this perspective" in card


def test_a_variant_in_a_link_that_cannot_be_shown_says_why():
    """A link's variant with a start year beyond the horizon read "Changed levers: as in the files"."""
    page = TestClient(make_app(Library(ROOT / "scenarios"), NATIONAL)).get(
        "/", params={**form(), "v": ["start=2050", "effect=50"]}
    )
    row = html.unescape(page.text.split('<tr class="moved">')[1].split("</tr>")[0])
    first, second = row.split("</td>")[1:3]
    assert (
        word("variant_invalid", "en") in first
        and "Start year" in first
        and word("as_files", "en") not in first
    )
    assert "50" in second


def test_a_simulation_of_other_levers_still_running_is_said_and_can_be_cancelled(folder):
    """A lever moved during a run hid it (progress and cancel gone) while it ran on, and a new run was
    refused "a simulation is already running: ... cancel it", with no way to."""
    app = make_app(Library(folder), NATIONAL, workers=1)
    client = TestClient(app)
    r = client.post("/simulate", data=form())  # the national pair: seconds
    job = re.search(r'hx-get="/jobs/(run\d+)', r.text).group(1)
    moved = html.unescape(client.post("/whatif", data=form(effect="80")).text)
    assert (
        'id="cancel-elsewhere"' in moved and "A simulation of other lever settings is still running" in moved
    )
    assert f'hx-post="/jobs/{job}/cancel"' in moved
    assert f'hx-get="/jobs/{job}?' in moved  # the note follows the run, and goes when it ends
    cancelled = client.post(f"/jobs/{job}/cancel", data=form(effect="80")).text
    deadline = time.monotonic() + 60
    while app.state.page.jobs.get(job).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # The other run's panel never shows in this state's place: not on cancel, nor when polled after it.
    for panel in (cancelled, client.get(f"/jobs/{job}", params=form(effect="80")).text):
        assert "Simulated:" not in panel and "Cancelled after" not in panel
    assert 'id="cancel-elsewhere"' not in client.get(f"/jobs/{job}", params=form(effect="80")).text
    assert 'id="cancel-elsewhere"' not in client.post("/whatif", data=form(effect="80")).text


def test_a_requests_own_key_is_kept_and_equals_its_state_given(folder):
    """:meth:`Context.key` of the request's own state is computed once; another state's is its own."""
    from sim.serve import app as A

    page = A.Page(Library(folder), NATIONAL)
    ctx = A.Context(page, {**form(effect="61"), A.TYPED: "1"}, [])
    own = ctx.key()
    assert ctx.key() is own and ctx.key(ctx.state) is own
    other = read(ctx.levers, form(effect="62"), "en")
    assert ctx.key(other) != own and ctx.key() is own
    assert ctx.key(other) == A.Context(page, {**form(effect="62"), A.TYPED: "1"}, []).key()
