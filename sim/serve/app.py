"""The what-if page's web application (Starlette; templates with Jinja2; htmx in the page).

Every route is a thin client of the library: levers -> ``with_changes`` ->
``sim.compare`` -> ``sim.key_figures``. No state changes on GET: the page's
state lives in its URL, and only POST starts or cancels a simulation. A
request names scenario files by their name in the :class:`Library`, never
by a path.
"""

from __future__ import annotations

import asyncio
import gc
import math
import multiprocessing
import os
import tempfile
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sim.errors import PairError, UserError
from sim.outputs import language as L
from sim.run.experiment import check_pair
from sim.scenario import Scenario
from sim.serve import jobs as J
from sim.serve.levers import GROUPS, Lever, State, levers, query, read
from sim.serve.levers import arms as make_arms
from sim.serve.library import Library, UnknownFile
from sim.serve.whatif import (
    ArmCache,
    BreakEvenCache,
    Loaded,
    View,
    break_even_effect,
    break_even_text,
    compute,
)
from sim.serve.words import without_options, word

HERE = Path(__file__).parent
MAX_BODY_BYTES = 64 * 1024
"""The largest request body the page accepts (a form of levers is below 2 kB)."""
MAX_URL_BYTES = 8 * 1024
"""The longest URL (the page's state, with three variants, is below 2 kB)."""
MAX_VARIANTS = 3
"""Variants saved side by side."""
VIEWS_KEPT = 512
"""States whose figures and charts the page keeps (about 40 kB each)."""
OOB_ERRORS_KEPT = 64
"""Sets of moved levers whose messages beside the fields (none) the page keeps, written (2 kB each)."""
LEVER_TABLES_KEPT = 16
"""Pairs of files as read whose lever tables the page keeps (a file changed on disk is read again)."""

_ENV = Environment(
    loader=FileSystemLoader([str(HERE / "templates"), str(HERE.parent / "outputs" / "templates")]),
    autoescape=select_autoescape(["html"]),
    # The templates are the package's own and do not change while it runs: not a stat of each of
    # them at every render to see whether they did (five a lever move).
    auto_reload=False,
)
_STATIC_VERSION = "4"


class Page:
    """What the server knows: the files it may read, its pair, its runs and caches.

    With ``live`` > 0 the figures of a lever move are computed in that many
    worker processes (each with its own caches), so that a room's moves use
    every core; the server's process reads requests and writes pages.
    """

    def __init__(self, library: Library, pair: tuple[str, str] | None = None, live: int = 0) -> None:
        self.library = library
        self.pair = pair
        self.jobs = J.Jobs()
        self.break_even = BreakEvenCache()
        self.arms = ArmCache()
        self._levers: OrderedDict[tuple[Loaded, Loaded], list[Lever]] = OrderedDict()
        # What the page says of each lever whatever its state, by lever table, file as read and language.
        self.lever_words: OrderedDict[tuple, list] = OrderedDict()
        self.views: OrderedDict[tuple, asyncio.Future] = OrderedDict()
        self.oob_errors: OrderedDict[tuple, Markup] = OrderedDict()  # see _oob_errors
        self.processes = live
        self.live: ProcessPoolExecutor | None = self._start_live() if live > 0 else None

    def _start_live(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            self.processes,
            # Not forked: the server has threads (a run, a break-even search) that a fork would copy mid-step.
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start,
            initargs=(self.library.folder, self.library.given, self.pair, os.getpid()),
        )
        for _ in range(self.processes):  # started now, not at the first move; each computes the pair once
            pool.submit(_worker_warm)
        return pool

    def levers_of(self, base: Scenario, strategy: Scenario) -> list[Lever]:
        """The levers of a pair of files as read (the same list until a file is read again)."""
        key = (Loaded(base), Loaded(strategy))
        kept = self._levers.get(key)
        if kept is None:
            kept = self._levers[key] = levers(base, strategy)
            while len(self._levers) > LEVER_TABLES_KEPT:  # files read again: the old versions' go
                self._levers.popitem(last=False)
        return kept

    def restart_live(self) -> None:
        """New worker processes in place of a pool that lost one (a broken pool refuses every task)."""
        if self.live is not None:
            self.live.shutdown(wait=False, cancel_futures=True)
        self.live = self._start_live()

    def close(self) -> None:
        """Stop the runs and the worker processes (when the server stops)."""
        self.jobs.cancel_all()
        if self.live is not None:
            self.live.shutdown(cancel_futures=True)


_WORKER: Page | None = None
"""A worker process's own page (files, caches): see :attr:`Page.live`."""


def _worker_start(folder: Path | None, given: list[Path], pair: tuple[str, str] | None, server: int) -> None:
    global _WORKER
    from sim.run.workers import keep_freed_memory, start_worker

    # As the command line's workers: Ctrl-C is the server's to handle (it ends the pool), one BLAS
    # thread each, and a server killed (kill -9, a closed terminal) leaves no worker behind.
    start_worker(server)
    # Each state makes and drops the same arrays: reused, not faulted in afresh (a sixth of a state).
    if keep_freed_memory():
        from sim.engines import expected

        # A strategy's new runs (its ramp-up years, the years after) side by side: the larger
        # arrays are reused too, and a few calls fewer a state (the same numbers, bit for bit).
        expected.RUNS_AT_ONCE = True
    _WORKER = Page(Library(folder, given), pair)
    # What the process holds from now on (modules, the page, its files) is not garbage: kept out of the
    # collector's full passes, which would otherwise walk it all (tens of ms, in the middle of a move).
    gc.freeze()


def _worker_warm() -> None:
    if _WORKER is not None and _WORKER.pair is not None:
        try:
            _worker_view({})  # the baseline's arm, cached before the first move
        except UserError:
            pass  # a broken file is said at the first request, by the server
    gc.freeze()  # and the arm computed: see _worker_start
    time.sleep(0.2)  # so that the next warm-up goes to another worker


def _worker_view(params: dict[str, str]) -> View:
    """The view of the state in ``params`` (pair, language, levers), in a worker process."""
    assert _WORKER is not None
    ctx = Context(_WORKER, params, [])
    return _view(_WORKER, ctx).shipped()


# ---------------------------------------------------------------------------
# Reading a request
# ---------------------------------------------------------------------------


class Context:
    """One request's pair, language and levers, read from its query or form."""

    def __init__(self, page: Page, params: dict[str, str], variants: list[str]) -> None:
        names = (params.get("base"), params.get("strategy"))
        if names[0] is None or names[1] is None:
            if page.pair is None:
                raise UnknownFile("choose a baseline and a strategy")
            names = page.pair
        self.names: tuple[str, str] = (str(names[0]), str(names[1]))
        self.base: Scenario = page.library.load(self.names[0])
        self.strategy: Scenario = page.library.load(self.names[1])
        check_pair(self.base, self.strategy)
        lang = params.get("lang")
        self.lang = lang if lang in L.LANGUAGES else L.resolve(None, self.base)
        self.levers: list[Lever] = page.levers_of(self.base, self.strategy)
        self.scope = {lv.id: lv.scope for lv in self.levers}
        self.state: State = read(self.levers, params, self.lang, typed=params.get(TYPED) == "1")
        self.raw = params
        self.variants = [v for v in variants if v][:MAX_VARIANTS]
        self._queries: dict[str, str] = {}
        self._key: tuple | None = None

    def query(
        self, state: State | None = None, lang: str | None = None, variants: list[str] | None = None
    ) -> str:
        """The page's URL query for a state (default: this one)."""
        # This request's own state, by language: kept (a page writes it in half a dozen links).
        mine = state is None and variants is None
        if mine and (lang or self.lang) in self._queries:
            return self._queries[lang or self.lang]
        items = [("base", self.names[0]), ("strategy", self.names[1]), ("lang", lang or self.lang)]
        items += list(query(self.levers, state or self.state).items())
        items += [("v", v) for v in (self.variants if variants is None else variants)]
        text = urlencode(items)
        if mine:
            self._queries[lang or self.lang] = text
        return text

    def label_of(self, lever_id: str) -> str:
        """A lever's name on the page ("" for a message about no lever in particular)."""
        lever = next((lv for lv in self.levers if lv.id == lever_id), None)
        return lever.label(self.lang, self.base) if lever is not None else ""

    def levers_query(self, state: State | None = None) -> str:
        """Only the moved levers: what a variant saves."""
        return urlencode(query(self.levers, state or self.state))

    def key(self, state: State | None = None) -> tuple:
        """What identifies a state's numbers (not its language): the files as read, the levers, the payer."""
        mine = state is None or state is self.state
        if mine and self._key is not None:  # this request's own: asked for three times an answer
            return self._key
        files = (Loaded(self.base), Loaded(self.strategy))
        key = (*self.names, *files, self.levers_query(state), (state or self.state).perspective)
        if mine:
            self._key = key
        return key


TYPED = "\x00typed"
"""Marks the levers of a posted form (the fields as typed, in the page's language), not of a URL."""


async def _params(request: Request) -> tuple[dict[str, str], list[str]]:
    if request.method == "POST":
        form = await request.form()
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
    params = {k: v for k, v in pairs if k not in ("v", TYPED)}
    if request.method == "POST":  # the worker processes read the mark too (the params go to them)
        params[TYPED] = "1"
    variants = [v for k, v in pairs if k == "v"]
    return params, variants


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def _render(
    name: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> HTMLResponse:
    html = _ENV.get_template(name).render(**values)
    return HTMLResponse(html, status_code=status, headers=headers)


def _common(ctx: Context) -> dict[str, Any]:
    lang = ctx.lang
    return {
        "lang": lang,
        "w": lambda key, **kw: word(key, lang, **kw),
        "t": lambda key, **kw: L.t(key, lang, **kw),
        "col": lambda name: L.column(name, lang, ctx.base),
        "title_of": lambda scenario: L.title_of(scenario, lang),
        "ctx": ctx,
        "static": _STATIC_VERSION,
    }


def _view(page: Page, ctx: Context, state: State | None = None) -> View:
    state = state or ctx.state
    pair = {k: v for k, v in query(ctx.levers, state).items() if ctx.scope[k] == "pair"}
    # The baseline's arm depends on its file as read and the levers that move both arms, nothing else.
    key = (ctx.names[0], Loaded(ctx.base), tuple(sorted(pair.items())))
    return compute(ctx.levers, state, ctx.base, ctx.strategy, ctx.lang, page.arms, key)


async def _live_view(page: Page, ctx: Context, raw: dict[str, str] | None = None) -> View:
    """The view of the request's state (or of the levers in ``raw``), in a worker process if the page has them.

    A state seen lately (a variant, a lever moved back, a second screen on
    the same link) is answered from :attr:`Page.views`; requests for a state
    being computed wait for that computation.
    """
    state = ctx.state if raw is None else read(ctx.levers, raw, ctx.lang)
    if state.errors:  # its messages quote what was typed: not kept
        return await _computed(page, ctx, state, raw)
    key = (*ctx.key(state), ctx.lang)  # the files as read are in it: a file changed on disk is a new state
    kept = page.views.get(key)
    if kept is not None:
        if kept.done() and not kept.cancelled() and kept.exception() is None:
            return kept.result()
        if not kept.done() and kept.get_loop() is asyncio.get_running_loop():
            return await asyncio.shield(kept)
    made = asyncio.ensure_future(_computed(page, ctx, state, raw))
    page.views[key] = made
    while len(page.views) > VIEWS_KEPT:
        page.views.pop(next(iter(page.views)))
    return await asyncio.shield(made)


async def _computed(page: Page, ctx: Context, state: State, raw: dict[str, str] | None) -> View:
    if page.live is None:
        return _view(page, ctx, state)
    params = {
        **(ctx.raw if raw is None else raw),
        "base": ctx.names[0],
        "strategy": ctx.names[1],
        "lang": ctx.lang,
    }
    try:
        return await asyncio.wrap_future(page.live.submit(_worker_view, params))
    except BrokenProcessPool:
        # A worker died (killed, out of memory): new workers for the next moves, this one here.
        page.restart_live()
        return _view(page, ctx, state)


async def _variant_views(page: Page, ctx: Context) -> list[dict[str, Any]]:
    raws = [dict(parse_qsl(v, keep_blank_values=True)) for v in ctx.variants]
    views = await asyncio.gather(*(_live_view(page, ctx, raw) for raw in raws))
    by_id = {lv.id: lv for lv in ctx.levers}
    out = []
    for i, (v, view) in enumerate(zip(ctx.variants, views)):
        state = view.state
        moved = [
            f"{by_id[k].label(ctx.lang, ctx.base)}: {by_id[k].display(state.values[k], ctx.lang, unit=True)}"
            for k in state.moved
        ]
        if view.errors:  # a link's variant that cannot be shown says why, not "as in the files"
            moved = [word("variant_invalid", ctx.lang)] + [
                f"{ctx.label_of(k) + ': ' if ctx.label_of(k) else ''}{message}"
                for k, message in view.errors.items()
            ]
        out.append({"index": i, "view": view, "moved": moved, "query": v})
    return out


def _groups(page: Page, ctx: Context, view: View) -> list[dict[str, Any]]:
    out = []
    for g, name, levers_words in _lever_words(page, ctx):
        items = []
        for lv, words in levers_words:
            items.append(
                {
                    "lever": lv,
                    "label": words["label"],
                    "value": _field(lv, ctx.state.values[lv.id], ctx),
                    "default": words["default"],
                    "raw_default": words["raw_default"],
                    "moved": lv.id in ctx.state.moved,
                    "error": view.errors.get(lv.id, ""),
                    "unit": words["unit"],
                    "choices": words["choices"],
                    "heading": words["heading"],
                }
            )
        out.append({"id": g, "name": name, "levers": items})
    return out


def _error_fields(page: Page, ctx: Context, view: View) -> list[dict[str, Any]]:
    """:func:`_groups` as far as the answer to a lever move uses it: each field's message and whether it moved.

    The answer replaces only the messages beside the fields (the fields keep what was typed), so it
    needs neither their values nor their words: a tenth of the work, at every move.
    """
    return [
        {
            "id": g,
            "levers": [
                {"lever": lv, "moved": lv.id in ctx.state.moved, "error": view.errors.get(lv.id, "")}
                for lv, _ in levers_words
            ],
        }
        for g, _, levers_words in _lever_words(page, ctx)
    ]


def _oob_errors(page: Page, ctx: Context, view: View) -> Markup:
    """The messages beside the fields as the answer to a lever move writes them (errors.html).

    Without a message they are the same at most moves (only which levers moved differs): kept by
    everything they are made of, each lever's id, whether it moved and its message. A message
    quotes what was typed, so a state with one is written afresh, not kept.
    """
    groups = _error_fields(page, ctx, view)
    fields = tuple((it["lever"].id, it["moved"], it["error"]) for g in groups for it in g["levers"])
    if any(error for _, _, error in fields):
        return Markup(_ENV.get_template("errors.html").render(groups=groups))
    kept = page.oob_errors.get(fields)
    if kept is None:
        kept = page.oob_errors[fields] = Markup(_ENV.get_template("errors.html").render(groups=groups))
        while len(page.oob_errors) > OOB_ERRORS_KEPT:
            page.oob_errors.popitem(last=False)
    return kept


def _lever_words(page: Page, ctx: Context) -> list[tuple[str, str, list[tuple[Lever, dict[str, Any]]]]]:
    """The groups of levers with their names, defaults, units and choices in words (the same at every move)."""
    key = (Loaded(ctx.levers), Loaded(ctx.base), ctx.lang)
    kept = page.lever_words.get(key)
    if kept is not None:
        return kept
    lang, kept = ctx.lang, []
    for g in GROUPS:
        items = []
        first_hr = True
        for lv in ctx.levers:
            if lv.group != g:
                continue
            words = {
                "label": lv.label(lang, ctx.base),
                "default": lv.display(lv.default, lang, unit=True),
                "raw_default": lv.shown(lv.default),
                "unit": word("unit_" + lv.unit, lang) if lv.unit != "choice" else "",
                "choices": [(c, word("persp_" + c, lang)) for c in lv.choices],
                "heading": word("hr_heading", lang) if lv.id.startswith("hr.") and first_hr else "",
            }
            items.append((lv, words))
            first_hr = first_hr and not lv.id.startswith("hr.")
        if items:
            kept.append((g, word("group_" + g, lang), items))
    page.lever_words[key] = kept
    while len(page.lever_words) > 2 * LEVER_TABLES_KEPT:  # files read again: the old versions' go
        page.lever_words.popitem(last=False)
    return kept


def _downloads(ctx: Context, view: View, job: J.Job | None) -> dict[str, Any]:
    """The names the downloaded files get, and whether the reports can be made yet."""
    from sim.serve.files import what_if_name

    base, strategy = Path(ctx.names[0]), Path(ctx.names[1])
    changed = view.base_changed
    return {
        "strategy": what_if_name(strategy),
        "baseline": what_if_name(base) if changed else base.name,
        # The expected engine cannot count places: such a pair's reports come from its simulation.
        "reports": not view.uncapped or (job is not None and job.state == "done"),
    }


def _field(lever: Lever, value: Any, ctx: Context) -> str:
    """What a field holds: the text typed if it cannot be used, else the value in the page's language."""
    if lever.id in ctx.state.errors:
        return str(ctx.raw.get(lever.id, ""))
    if lever.choices or value is None:
        return lever.shown(value)
    return lever.display(value, ctx.lang)


def _shown(page: Page, ctx: Context, view: View, fields: bool = True) -> dict[str, Any]:
    """What the page and its answer to a lever move both show of a state.

    Without ``fields`` (the answer to a move), the levers' groups carry only their messages.
    """
    job = _job_for(page, ctx)
    return {
        **_common(ctx),
        "view": view,
        "downloads": _downloads(ctx, view, job),
        # The answer to a move swaps in only the messages beside the fields, written once (errors.html).
        **({"groups": _groups(page, ctx, view)} if fields else {"oob_errors": _oob_errors(page, ctx, view)}),
        **_job_values(ctx, job),
        "elsewhere": _elsewhere(page, ctx),
    }


def _job_for(page: Page, ctx: Context) -> J.Job | None:
    """The newest run of this state (shown beside it), if any."""
    return page.jobs.latest(ctx.key())


def _job_values(ctx: Context, job: J.Job | None) -> dict[str, Any]:
    if job is None:
        return {"job": None}
    values: dict[str, Any] = {"job": job, "seconds": L.number(job.seconds, ctx.lang, 1)}
    if job.state == "done":
        from sim.outputs.report import interval_notes, key_figure_records

        made = make_arms(ctx.levers, ctx.state, ctx.base, ctx.strategy, ctx.lang)
        result = _worded(job.result, made) if isinstance(made, tuple) else job.result
        values["figures"] = key_figure_records(result, ctx.lang)
        values["interval_notes"] = [without_options(n) for n in interval_notes(result, ctx.lang)]
        values["runs"] = L.runs(result.base.replications, ctx.lang)
    return values


def _worded(result: Any, arms: tuple[Scenario, Scenario]) -> Any:
    """A finished run of a state with that state's arms as this request made them.

    A run is kept by state, not by language: started on the page in the other
    language, its arms differ from these only in words (the discount rate's
    source note), and what is shown now is in this request's language.
    """
    a, b = arms
    return replace(
        result, base=replace(result.base, scenario=a), strategy=replace(result.strategy, scenario=b)
    )


# ---------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------


def _pairs(page: Page, params: dict[str, str]) -> Response:
    """The list of pairs the page can serve (and the files that cannot be read)."""
    pairs, broken = page.library.pairs()
    lang = params.get("lang") if params.get("lang") in L.LANGUAGES else "da"
    files = sorted(page.library.files())
    return _render(
        "pairs.html",
        lang=lang,
        w=lambda key, **kw: word(key, lang, **kw),
        pairs=[
            {**p.__dict__, "query": urlencode({"base": p.base, "strategy": p.strategy, "lang": lang})}
            for p in pairs
        ],
        broken=broken,
        files=files,
        # Two files that make a pair to start from (the first pair's), not the first file twice.
        chosen=(pairs[0].base, pairs[0].strategy) if pairs else (files[0], files[0]) if files else ("", ""),
        folder=str(page.library.folder or ""),
        static=_STATIC_VERSION,
    )


async def pairs(request: Request) -> Response:
    """Every pair, also on a page started with two files ("other files")."""
    params, _ = await _params(request)
    return _pairs(request.app.state.page, params)


async def index(request: Request) -> Response:
    page: Page = request.app.state.page
    params, variants = await _params(request)
    if page.pair is None and ("base" not in params or "strategy" not in params):
        return _pairs(page, params)
    ctx = Context(page, params, variants)
    view, shown = await asyncio.gather(_live_view(page, ctx), _variant_views(page, ctx))
    return _render("page.html", **_shown(page, ctx, view), variants=shown, max_variants=MAX_VARIANTS)


async def whatif(request: Request) -> Response:
    """A lever moved: the figures and charts again, the messages beside the fields, the URL."""
    page: Page = request.app.state.page
    params, variants = await _params(request)
    ctx = Context(page, params, variants)
    started = time.perf_counter()
    view = await _live_view(page, ctx)
    ms = (time.perf_counter() - started) * 1e3
    headers = {"HX-Replace-Url": "/?" + ctx.query(), "Server-Timing": f"whatif;dur={ms:.1f}"}
    return _render("results.html", headers=headers, **_shown(page, ctx, view, fields=False), oob=True)


async def breakeven(request: Request) -> Response:
    """The effect size at which the strategy breaks even, for the effect lever's mark."""
    page: Page = request.app.state.page
    params, variants = await _params(request)
    ctx = Context(page, params, variants)
    text, share = "", None
    if not ctx.state.errors:
        # The break-even effect of the other levers as they stand: the state at 100 % of the effect.
        full = State(
            {**ctx.state.values, "effect": 100.0}, {}, tuple(m for m in ctx.state.moved if m != "effect")
        )
        # Its figures as any state's: kept, or from a worker (an effect move asks for the same state again).
        view = await _live_view(page, ctx, query(ctx.levers, full))
        figures = {r["metric"]: r["centre"] for r in view.figures}
        if view.ok and figures["investment_pv"] == 0 and figures["gross_savings_pv"] == 0:
            text = word("be_nothing", ctx.lang, whose=L.t("persp_" + ctx.state.perspective, ctx.lang))
        elif view.ok:

            def solve() -> float | None:  # only when not found before: the arms, then the search
                from sim.analysis.uncertainty import has_effect_to_scale

                a, b = make_arms(ctx.levers, full, ctx.base, ctx.strategy, ctx.lang)
                # None: a strategy of places alone, with nothing the effect size scales.
                return break_even_effect(a, b, ctx.state.perspective) if has_effect_to_scale(b) else None

            key = ctx.key(full)  # the files as read: a file changed on disk is searched again
            # Half a second: in a thread, so the page's other requests go on.
            theta = await run_in_threadpool(page.break_even.get, key, solve)
            if theta is None:
                text = word("be_no_effect", ctx.lang)
            else:
                text = break_even_text(theta, ctx.lang)
                share = theta * 100 if math.isfinite(theta) and 0 <= theta <= 1.5 else None
    return _render("breakeven.html", **_common(ctx), text=text, share=share)


async def variants(request: Request) -> Response:
    """Save the current state as a variant, or remove one; then the page's URL again (303)."""
    page: Page = request.app.state.page
    params, saved = await _params(request)
    ctx = Context(page, params, saved)
    action = params.get("action", "save")
    kept = list(ctx.variants)
    if action == "save" and ctx.state.errors:
        # A field that cannot be read is not saved as the files' value: the page again, its messages,
        # and why nothing was saved (the variants as they were).
        view, shown = await asyncio.gather(_live_view(page, ctx), _variant_views(page, ctx))
        view = replace(view, errors={"page": word("save_refused", ctx.lang), **view.errors})
        return _render(
            "page.html", status=422, **_shown(page, ctx, view), variants=shown, max_variants=MAX_VARIANTS
        )
    if action == "save" and ctx.levers_query() not in kept:  # the same state twice is one variant
        kept = ([*kept, ctx.levers_query()])[-MAX_VARIANTS:]
    elif action.startswith("remove:"):
        try:
            kept.pop(int(action.split(":", 1)[1]))
        except (ValueError, IndexError):
            pass
    return RedirectResponse("/?" + ctx.query(variants=kept), status_code=303)


async def simulate(request: Request) -> Response:
    """Start the discrete-event simulation of the current state, in the background."""
    page: Page = request.app.state.page
    params, saved = await _params(request)
    ctx = Context(page, params, saved)
    view = _view(page, ctx)
    if not view.ok:
        return _render("job.html", **_common(ctx), job=None, message=next(iter(view.errors.values())))
    a, b = view.arms
    perspective = ctx.state.perspective
    workers = request.app.state.workers

    def run(progress):
        import sim

        return sim.compare(a, b, engine="des", perspective=perspective, workers=workers, progress=progress)

    try:
        job = page.jobs.start(ctx.key(), run)
    except J.Busy:
        return _render("job.html", **_common(ctx), job=None, message=word("busy", ctx.lang))
    return _render("job.html", **_common(ctx), **_job_values(ctx, job))


async def job_status(request: Request) -> Response:
    page: Page = request.app.state.page
    params, saved = await _params(request)
    ctx = Context(page, params, saved)
    job = page.jobs.get(request.path_params["job"])
    if job is None:
        return _render("job.html", **_common(ctx), job=None, message=word("no_run", ctx.lang))
    return _job_panel(page, ctx, job)


async def job_cancel(request: Request) -> Response:
    page: Page = request.app.state.page
    params, saved = await _params(request)
    ctx = Context(page, params, saved)
    return _job_panel(page, ctx, page.jobs.cancel(request.path_params["job"]))


def _job_panel(page: Page, ctx: Context, job: J.Job | None) -> Response:
    """The simulation panel of the request's state: ``job`` if it is this state's run; else this state's
    own run (if any) and a note on a run of other levers still going (never another state's figures)."""
    if job is not None and job.key == ctx.key():
        return _render("job.html", **_common(ctx), **_job_values(ctx, job))
    return _render(
        "job.html", **_common(ctx), **_job_values(ctx, _job_for(page, ctx)), elsewhere=_elsewhere(page, ctx)
    )


def _elsewhere(page: Page, ctx: Context) -> J.Job | None:
    """A run of other levers still going (moved on while it ran): said, and it can be cancelled."""
    key = ctx.key()
    return next((j for j in page.jobs.running() if j.key != key), None)


async def download(request: Request) -> Response:
    """The current state as files: the strategy (and baseline) as TOML, report.html, report.xlsx."""
    from sim.serve import files as F

    page: Page = request.app.state.page
    params, saved = await _params(request)
    ctx = Context(page, params, saved)
    view = _view(page, ctx)
    what = request.path_params["what"]
    if not view.ok:
        return PlainTextResponse(word("download_invalid", ctx.lang), status_code=400)
    paths = (page.library.path(ctx.names[0]), page.library.path(ctx.names[1]))
    texts = F.what_if_files(paths, (ctx.base, ctx.strategy), view.arms, date.today(), ctx.lang)
    if what == "strategy.toml":
        name, text = texts["strategy"]
        return Response(text, media_type="application/toml", headers=_attachment(name))
    if what == "baseline.toml":
        if texts["baseline"] is None:  # no lever moved both arms: the baseline is its file
            return PlainTextResponse(word("baseline_unchanged", ctx.lang), status_code=404)
        name, text = texts["baseline"]
        return Response(text, media_type="application/toml", headers=_attachment(name))
    if what in ("report.html", "report.xlsx"):
        job = _job_for(page, ctx)
        result = job.result if job is not None and job.state == "done" else None
        if result is not None:  # its report names the arms as the files it comes with
            result = _worded(result, F.as_downloaded(view.arms, texts))
        if result is None and view.uncapped:
            return PlainTextResponse(word("reports_need_run", ctx.lang), status_code=409)
        with tempfile.TemporaryDirectory(prefix="trappesim-serve-") as tmp:
            # Charts and workbook take seconds: in a thread, so the page's other requests go on.
            out = await run_in_threadpool(
                F.write_report, Path(tmp), paths, texts, ctx.state.perspective, ctx.lang, result
            )
            data = (out / what).read_bytes()
        kind = (
            "text/html; charset=utf-8"
            if what.endswith(".html")
            else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )
        stem = texts["strategy"][0].removesuffix(".toml")
        return Response(data, media_type=kind, headers=_attachment(f"{stem}-{what}"))
    return PlainTextResponse("not found", status_code=404)


def _attachment(name: str) -> dict[str, str]:
    """A download's header: an ASCII name for old browsers, the real one (RFC 6266) for the rest."""
    from urllib.parse import quote

    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return {"Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"}


# ---------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------


async def _user_error(request: Request, exc: Exception) -> Response:
    """A user's mistake (an unknown file, a pair that cannot be compared): said, never a traceback."""
    status = 404 if isinstance(exc, UnknownFile) else 400
    lang = request.query_params.get("lang")
    lang = lang if lang in L.LANGUAGES else "en"
    if isinstance(exc, UnknownFile):
        lead = word("problem_file", lang)
    else:  # a pair that cannot be compared, or a file that cannot be read
        lead = word("problem_pair" if isinstance(exc, PairError) else "problem_read", lang)
    return _render(
        "problem.html", status=status, lang=lang, lead=lead, message=str(exc), static=_STATIC_VERSION
    )


async def _bug(request: Request, exc: Exception) -> Response:
    return _render(
        "problem.html",
        status=500,
        lang="en",
        lead="",
        message="Trappesim met an error it did not expect; the server's terminal has the details.",
        static=_STATIC_VERSION,
    )


class Limits:
    """Refuse a request whose URL or body is too large (414, 413), before anything reads it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) + len(scope.get("path", "")) > MAX_URL_BYTES:
            await PlainTextResponse("URL too long", status_code=414)(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            await PlainTextResponse("request too large", status_code=413)(scope, receive, send)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await PlainTextResponse("request too large", status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def make_app(
    library: Library, pair: tuple[str, str] | None = None, workers: Any = None, live: int = 0
) -> Any:
    """The what-if page as an ASGI application.

    Parameters
    ----------
    library : Library
        The scenario files the page may read.
    pair : (str, str), optional
        The baseline's and strategy's names in the library to open at ``/``;
        without it ``/`` lists the pairs.
    workers : int or None
        Processes for "Run the simulation" (``None``: all cores).
    live : int
        Processes for the figures of each lever move (0: in the server's own process).
    """
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/pairs", pairs, methods=["GET"]),
        Route("/whatif", whatif, methods=["POST"]),
        Route("/breakeven", breakeven, methods=["POST"]),
        Route("/variants", variants, methods=["POST"]),
        Route("/simulate", simulate, methods=["POST"]),
        Route("/jobs/{job}", job_status, methods=["GET"]),
        Route("/jobs/{job}/cancel", job_cancel, methods=["POST"]),
        Route("/download/{what}", download, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Limits)],
        exception_handlers={UserError: _user_error, Exception: _bug},
    )
    app.state.page = Page(library, pair, live)
    app.state.workers = workers
    return app
