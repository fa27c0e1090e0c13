"""The what-if page (``trappesim serve``) in a real browser: Chromium driven by Playwright.

The page is served by uvicorn in a thread of the test process, from a copy of
``scenarios/`` (downloads and edits never touch the repository). Chromium is
the system's (``/usr/bin/chromium``, Debian's package): nothing is downloaded.
Without it the tests are skipped, unless ``TRAPPESIM_BROWSER_TESTS=required``
(CI), where they fail.

Screenshots go to ``$TRAPPESIM_SCREENSHOTS`` if set (a folder), else to a
temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

if os.environ.get("TRAPPESIM_BROWSER_TESTS") == "required":
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
NATIONAL = ("denmark-baseline.toml", "denmark-early-detection.toml")
MUNICIPALITY = ("municipality-template.toml", "municipality-early-detection.toml")
TIMEOUT = 10_000
"""Milliseconds any one expectation may wait."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ABORTED = re.compile(r"htmx:(sendAbort|afterRequest), \[object HTML\w*Element\]$")
"""htmx's console errors for a request it aborted itself (``hx-sync="this:replace"``: a newer one
replaced it, as when a user types on); a failed request logs ``htmx:responseError`` and is kept."""


def _chromium() -> str:
    path = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else shutil.which("chromium")
    if path:
        return path
    why = "no Chromium (/usr/bin/chromium; Debian: apt-get install chromium); browser tests not run"
    if os.environ.get("TRAPPESIM_BROWSER_TESTS") == "required":
        pytest.fail(why + ", but TRAPPESIM_BROWSER_TESTS=required")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, with the system's Chromium (never a downloaded one)."""
    return {
        "headless": True,
        **browser_type_launch_args,
        "executable_path": _chromium(),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """The page on 127.0.0.1 (a free port), serving a copy of ``scenarios/``: its url, folder, app."""
    import uvicorn

    from sim.serve.app import make_app
    from sim.serve.library import Library

    folder = tmp_path_factory.mktemp("served") / "scenarios"
    shutil.copytree(SCENARIOS, folder, ignore=shutil.ignore_patterns("results"))
    app = make_app(Library(folder), NATIONAL, workers=2, live=2)  # as `trappesim serve` on 2 cores
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the what-if page's server did not start")
        time.sleep(0.02)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", folder=folder, app=app)
    app.state.page.close()
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def console_errors(page) -> list[str]:
    """The page's console errors (a missing favicon aside: the browser asks for one by itself)."""
    errors: list[str] = []

    def seen(msg) -> None:
        if msg.type != "error" or msg.location.get("url", "").endswith("/favicon.ico"):
            return
        if ABORTED.match(msg.text):
            return  # a request a newer one replaced; how many: test_one_break_even_request_per_move
        errors.append(f"{msg.text} ({msg.location.get('url')})")

    page.on("console", seen)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


def url_of(served, pair=NATIONAL, **levers: str) -> str:
    base, strategy = pair
    return f"{served.url}/?" + urlencode({"base": base, "strategy": strategy, **levers})


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def card(page, metric: str):
    return page.locator(f"#results .cards .card[data-metric={metric}] .value")


def reference(folder: Path, raw: dict[str, str], lang: str = "en", pair=NATIONAL):
    """What the server computes for a state: :func:`sim.serve.whatif.compute`, by metric."""
    import sim
    from sim.serve.levers import levers, read
    from sim.serve.whatif import compute

    base, strategy = (sim.load_scenario(folder / name) for name in pair)
    all_levers = levers(base, strategy)
    view = compute(all_levers, read(all_levers, raw, lang), base, strategy, lang)
    assert view.ok, view.errors
    return {r["metric"]: r for r in view.figures}


def wait_breakeven(page) -> None:
    """Until the break-even text under the effect lever has come (it is computed after the page)."""
    expect(page.locator("#breakeven .breakeven-text")).to_be_attached(timeout=TIMEOUT)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_no_request_leaves_the_machine(page, served, console_errors):
    """Every request goes to 127.0.0.1 (htmx is served, not fetched from a CDN); no console errors."""
    outside: list[str] = []
    inside: list[str] = []

    def handler(route) -> None:
        url = route.request.url
        if urlparse(url).hostname != "127.0.0.1":
            outside.append(url)
            route.abort()
        else:
            inside.append(url)
            route.continue_()

    page.route("**/*", handler)
    page.goto(url_of(served, lang="en"))
    wait_breakeven(page)
    assert page.evaluate("typeof htmx") == "object"
    assert outside == []
    assert any("/static/htmx" in u for u in inside), inside
    assert any(u.endswith("/breakeven") for u in inside), inside
    assert console_errors == []


def test_effect_lever_moves_the_figures(page, served, console_errors):
    page.goto(url_of(served, lang="en"))
    npv, payback = card(page, "npv"), card(page, "payback_year")
    before_npv, before_payback = npv.inner_text(), payback.inner_text()
    assert before_npv and before_payback
    page.fill("#f-effect", "40")
    expect(npv).not_to_have_text(before_npv, timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"[?&]effect=40(&|$)"), timeout=TIMEOUT)
    after_payback = payback.inner_text()
    assert after_payback != before_payback or re.search("no payback|not", after_payback, re.I)
    # The slider follows the field, and the figures are the server's for effect 40.
    expect(page.locator("#f-effect-range")).to_have_value("40")
    want = reference(served.folder, {"effect": "40"})
    expect(npv).to_have_text(want["npv"]["text"])
    expect(payback).to_have_text(want["payback_year"]["text"])
    expect(card(page, "placement_entries_avoided")).to_have_text(want["placement_entries_avoided"]["text"])


def test_one_break_even_request_per_move(page, served):
    """Moving a lever asks for the break-even effect once (not once per swapped element)."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/breakeven") else None)
    page.goto(url_of(served, lang="en"))
    wait_breakeven(page)
    asked.clear()
    with page.expect_response("**/whatif", timeout=TIMEOUT):
        page.fill("#f-cost", "400")
    expect(page.locator("#breakeven .breakeven-text")).to_be_attached(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert len(asked) == 1, f"{len(asked)} break-even requests for one move"


def test_leaving_a_field_does_not_ask_for_the_same_state_again(page, served):
    """Typing asks once; leaving the field ("change") asks nothing more (its answer could swap the
    language links from under a click)."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.post_data or "") if r.url.endswith("/whatif") else None)
    page.goto(url_of(served, lang="en"))
    with page.expect_response("**/whatif", timeout=TIMEOUT):
        page.fill("#f-cost", "410")
    page.press("#f-cost", "Tab")  # leaves the field: "change"
    page.wait_for_timeout(600)
    assert len(asked) == 1, asked
    with page.expect_response("**/whatif", timeout=TIMEOUT):  # a new value is asked for, of course
        page.fill("#f-cost", "420")
    page.press("#f-cost", "Tab")
    page.wait_for_timeout(600)
    assert len(asked) == 2, asked
    # Left while its answer is still on its way: that request is kept, not aborted for a copy of it.
    finished: list[str] = []
    page.on("requestfinished", lambda r: finished.append(r.url) if r.url.endswith("/whatif") else None)
    page.route("**/whatif", lambda route: (time.sleep(0.8), route.continue_()))
    page.fill("#f-cost", "430")
    page.wait_for_timeout(400)  # the typed value's request is on its way
    page.press("#f-cost", "Tab")
    page.wait_for_timeout(1500)
    assert len(asked) == 3 and len(finished) == 1, (asked, finished)
    expect(page).to_have_url(re.compile(r"[?&]cost=430(&|$)"), timeout=TIMEOUT)


@pytest.mark.parametrize(("lang", "message"), [("en", "Write a number"), ("da", "Skriv et tal")])
def test_bad_value_is_said_beside_the_field(page, served, console_errors, lang, message):
    page.goto(url_of(served, lang=lang))
    error = page.locator("#err-cost")
    expect(error).to_be_hidden()
    page.fill("#f-cost", "abc")
    expect(error).to_be_visible(timeout=TIMEOUT)
    expect(error).to_contain_text(message)
    expect(page.locator("#results .problems")).to_be_visible()
    expect(page.locator("#run")).to_be_disabled()
    assert "Traceback" not in page.content()
    # Fixed, the page works again, and another lever moves the figures.
    page.fill("#f-cost", "300")
    expect(error).to_be_hidden(timeout=TIMEOUT)
    expect(card(page, "npv")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#run")).to_be_enabled()
    npv = card(page, "npv").inner_text()
    page.fill("#f-effect", "70")
    expect(card(page, "npv")).not_to_have_text(npv, timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"cost=300.*effect=70|effect=70.*cost=300"), timeout=TIMEOUT)
    want = reference(served.folder, {"cost": "300", "effect": "70"}, lang)
    expect(card(page, "npv")).to_have_text(want["npv"]["text"])
    assert "Traceback" not in page.content()


def test_moved_levers_are_marked_while_typing(page, served, console_errors):
    """A lever away from the files' value is marked at once, the files' value below it; back, unmarked."""
    page.goto(url_of(served, lang="da"))
    lever, was = page.locator("#lever-cost"), page.locator("#lever-cost .was")
    expect(was).to_be_hidden()
    page.fill("#f-cost", "600")
    expect(lever).to_have_class(re.compile(r"\bmoved\b"), timeout=TIMEOUT)
    expect(was).to_be_visible()
    expect(was).to_contain_text("548")
    page.fill("#f-cost", "548,0")  # the files' value, written the Danish way
    expect(lever).not_to_have_class(re.compile(r"\bmoved\b"), timeout=TIMEOUT)
    expect(was).to_be_hidden()
    page.locator("#f-effect-range").fill("50")
    expect(page.locator("#lever-effect")).to_have_class(re.compile(r"\bmoved\b"), timeout=TIMEOUT)
    # "2.025" on the Danish page is the files' year, 2025, as the server reads it: not marked once answered.
    start = page.locator("#lever-start")
    with page.expect_response("**/whatif", timeout=TIMEOUT):
        page.fill("#f-start", "2.025")
    expect(start).not_to_have_class(re.compile(r"\bmoved\b"), timeout=TIMEOUT)
    expect(page.locator("#lever-start .was")).to_be_hidden()
    assert console_errors == []


def test_perspective(page, served, console_errors):
    """The payer lever: the figures are the chosen payer's, and the URL says which."""
    page.goto(url_of(served, lang="en"))
    with page.expect_response("**/whatif", timeout=TIMEOUT) as response:
        page.select_option("#f-perspective", "society")
    assert response.value.ok
    expect(page).to_have_url(re.compile(r"[?&]perspective=society(&|$)"), timeout=TIMEOUT)
    expect(page.locator("#results > p.note").first).to_contain_text("public-sector perspective")
    # In the shipped files every cost is the municipality's, so society's NPV is the same:
    # the region's (none of the costs) shows the figures do follow the payer.
    want = reference(served.folder, {"perspective": "society"})
    expect(card(page, "npv")).to_have_text(want["npv"]["text"])
    npv = card(page, "npv").inner_text()
    with page.expect_response("**/whatif", timeout=TIMEOUT):
        page.select_option("#f-perspective", "region")
    expect(page).to_have_url(re.compile(r"[?&]perspective=region(&|$)"), timeout=TIMEOUT)
    want = reference(served.folder, {"perspective": "region"})
    assert want["npv"]["text"] != npv
    expect(card(page, "npv")).to_have_text(want["npv"]["text"], timeout=TIMEOUT)
    expect(page.locator("#dl-strategy")).to_have_attribute("href", re.compile("perspective=region"))
    assert console_errors == []


def test_variant_is_saved_in_the_url(page, served, context, console_errors):
    page.goto(url_of(served, lang="en", effect="60"))
    with page.expect_navigation(timeout=TIMEOUT):
        page.click("#save-variant")
    expect(page).to_have_url(re.compile(r"[?&]v="), timeout=TIMEOUT)
    assert query_of(page)["v"] == ["effect=60"]
    heads = page.locator("#variants table.variants thead th.num")
    expect(heads).to_have_count(1)
    expect(page.locator("#variants table.variants tr.moved")).to_contain_text("60")
    again = context.new_page()
    again.goto(page.url)
    expect(again.locator("#variants table.variants thead th.num")).to_have_count(1)
    expect(again.locator("#variants table.variants tr.moved")).to_contain_text("60")
    # The variant's NPV is the server's for effect 60.
    want = reference(served.folder, {"effect": "60"})
    expect(again.locator("#variants table.variants")).to_contain_text(want["npv"]["text"])
    # Back to the files' values keeps the variants; removing one keeps the levers as they are.
    with again.expect_navigation(timeout=TIMEOUT):
        again.click("#reset")
    assert query_of(again)["v"] == ["effect=60"] and "effect" not in query_of(again)
    again.fill("#f-effect", "75")
    with again.expect_response("**/whatif", timeout=TIMEOUT):
        again.locator("#f-effect").dispatch_event("change")
    with again.expect_navigation(timeout=TIMEOUT):
        again.click("#variants button[value='remove:0']")
    assert query_of(again).get("effect") == ["75"] and "v" not in query_of(again)
    expect(again.locator("#variants")).to_have_count(0)
    assert console_errors == []


def test_download_reproduces_the_page(page, served, tmp_path, console_errors):
    """The downloaded strategy, compared by the library and by the CLI, gives the page's figures exactly."""
    import sim
    from sim.outputs.report import key_figures

    folder = served.folder
    page.goto(url_of(served, lang="en"))
    page.locator("#f-effect-range").fill("50")  # the slider moves the field
    expect(page.locator("#f-effect")).to_have_value("50")
    page.fill("#f-cost", "300")
    expect(page).to_have_url(re.compile(r"effect=50.*cost=300|cost=300.*effect=50"), timeout=TIMEOUT)
    expect(page.locator("#dl-strategy")).to_have_attribute("href", re.compile("cost=300"), timeout=TIMEOUT)
    expect(page.locator("#dl-baseline")).to_have_count(0)  # only the strategy changed
    with page.expect_download(timeout=TIMEOUT) as info:
        page.click("#dl-strategy")
    download = info.value
    assert download.suggested_filename == "denmark-early-detection-whatif.toml"
    text_path = folder / download.suggested_filename
    download.save_as(text_path)
    text = text_path.read_text(encoding="utf-8")
    assert "Save it in the folder of denmark-early-detection.toml" in text

    page_numbers = reference(folder, {"effect": "50", "cost": "300"})
    base = sim.load_scenario(folder / NATIONAL[0])
    cmp = sim.compare(base, sim.load_scenario(text_path), engine="expected", perspective="kommune")
    got = {r["metric"]: r for r in key_figures(cmp, "en").to_dict("records")}
    for metric in ("npv", "placement_entries_avoided", "payback_year"):
        assert got[metric]["centre"] == page_numbers[metric]["centre"], metric
        assert got[metric]["text"] == page_numbers[metric]["text"], metric
        expect(card(page, metric)).to_have_text(got[metric]["text"])

    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "compare", str(folder / NATIONAL[0]), str(text_path)]
        + ["--engine", "expected", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    from_cli = {r["metric"]: r for r in key_figures(sim.load_results(out), "en").to_dict("records")}
    for metric in ("npv", "placement_entries_avoided", "payback_year"):
        assert from_cli[metric]["centre"] == page_numbers[metric]["centre"], metric
    assert console_errors == []


def test_language_switch_keeps_the_levers(page, served, console_errors):
    page.goto(url_of(served, lang="en"))
    page.fill("#f-effect", "70")
    expect(page).to_have_url(re.compile(r"[?&]effect=70(&|$)"), timeout=TIMEOUT)
    # The language links follow the levers (swapped in with the figures).
    expect(page.locator("nav#lang a", has_text="Dansk")).to_have_attribute(
        "href", re.compile("effect=70"), timeout=TIMEOUT
    )
    page.click("nav#lang a:text-is('Dansk')")
    expect(page.locator("html")).to_have_attribute("lang", "da", timeout=TIMEOUT)
    expect(page.locator("#results h2").first).to_have_text("Svaret med indstillingerne, som de står nu")
    expect(page.locator("#save-variant")).to_have_text("Gem som variant")
    expect(page.locator("#f-effect")).to_have_value("70")
    assert query_of(page)["effect"] == ["70"] and query_of(page)["lang"] == ["da"]
    want = reference(served.folder, {"effect": "70"}, "da")
    expect(card(page, "npv")).to_have_text(want["npv"]["text"])
    page.click("nav#lang a:text-is('English')")
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=TIMEOUT)
    expect(page.locator("#results h2").first).to_have_text("The answer, as the levers stand")
    expect(page.locator("#f-effect")).to_have_value("70")
    assert query_of(page)["effect"] == ["70"]
    assert console_errors == []


def test_a_value_typed_just_before_switching_language_is_kept(page, served, console_errors):
    """The fields send a quarter second after the last key: a language link clicked sooner sends
    the typed value first (before, it was lost), read in the page's own language ("1.200" on the
    Danish page is twelve hundred, not 1.2 as the English page would read it)."""
    page.goto(url_of(served, lang="da"))
    page.fill("#f-cost", "1.200")
    page.click("nav#lang a:text-is('English')")  # at once: no request yet
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=TIMEOUT)
    expect(page.locator("#f-cost")).to_have_value("1,200")
    assert query_of(page)["cost"] == ["1200"]
    assert console_errors == []


def test_run_the_simulation_and_cancel(page, served, console_errors):
    """A small pair simulates to its end; a national run is cancelled (or, if it was quicker, done)."""
    page.goto(url_of(served, MUNICIPALITY, lang="en"))
    page.click("#run")
    job = page.locator("#job")
    expect(job.locator("progress").or_(job.locator("table.kf"))).to_be_visible(timeout=TIMEOUT)
    expect(job.locator("table.kf")).to_be_visible(timeout=25_000)
    expect(job).to_contain_text("Simulated:")
    assert "Traceback" not in page.content()

    page.goto(url_of(served, lang="en", effect="95"))
    page.click("#run")
    cancel = page.locator("#cancel")
    finished = job.locator("table.kf")
    expect(cancel.or_(finished)).to_be_visible(timeout=TIMEOUT)
    if cancel.is_visible():
        cancel.click()
        expect(job.get_by_text("Cancelled").or_(finished)).to_be_visible(timeout=TIMEOUT)
    else:
        expect(finished).to_be_visible()
    # Nothing runs any more: a new run can start.
    jobs = served.app.state.page.jobs
    deadline = time.monotonic() + 10
    while jobs.running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not jobs.running()
    assert console_errors == []


@pytest.mark.parametrize("lang", ["en", "da"])
def test_screenshots(page, served, lang):
    """Full-page screenshots after moving the effect lever; the break-even mark sits on its share."""
    folder = Path(os.environ.get("TRAPPESIM_SCREENSHOTS") or served.folder.parent)
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(url_of(served, lang=lang))
    page.locator("#f-effect-range").fill("40")
    expect(page).to_have_url(re.compile(r"[?&]effect=40(&|$)"), timeout=TIMEOUT)
    text = page.locator("#breakeven .breakeven-text")
    expect(text).to_have_attribute("data-share", re.compile(r"\d"), timeout=TIMEOUT)
    tick = page.locator("#breakeven-tick")
    expect(tick).to_be_visible()
    share = float(text.get_attribute("data-share"))
    box, slider = tick.bounding_box(), page.locator("#f-effect-range").bounding_box()
    assert box and slider
    where = slider["x"] + slider["width"] * share / 150
    assert abs(box["x"] - where) < 12, (box, slider, share)
    page.screenshot(path=str(folder / f"serve_{lang}.png"), full_page=True)
    page.screenshot(path=str(folder / f"serve_{lang}_top.png"))
