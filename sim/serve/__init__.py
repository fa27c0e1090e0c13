"""The what-if page: ``trappesim serve``, a local web page for the negotiation room.

Move a lever (the effect size, a hazard ratio, the programme's cost, the
start year, the payer) and the placements avoided, the NPV, the return per
krone, the payback year and the charts change at once, from the expected
engine; "Run the simulation" runs the discrete-event engine with intervals in
the background. The page's state lives in its URL; the strategy downloads as
a TOML file that ``trappesim compare`` turns into the same figures.

>>> from pathlib import Path
>>> from sim.serve import Library, make_app
>>> app = make_app(Library(Path("scenarios")))     # an ASGI application (uvicorn.run(app) serves it)

The modules: :mod:`~sim.serve.levers` (what a lever sets, and how the page's
state reads), :mod:`~sim.serve.whatif` (the figures of a state),
:mod:`~sim.serve.charts` (light SVG charts), :mod:`~sim.serve.jobs`
(simulations in the background), :mod:`~sim.serve.files` (the state as
files), :mod:`~sim.serve.library` (which files the page may read) and
:mod:`~sim.serve.app` (the routes).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Library", "make_app"]


def __getattr__(name: str) -> Any:
    # Starlette and Jinja2 load only when the page is wanted, not with ``import sim``.
    if name == "make_app":
        from sim.serve.app import make_app

        return make_app
    if name == "Library":
        from sim.serve.library import Library

        return Library
    raise AttributeError(f"module 'sim.serve' has no attribute {name!r}")
