"""The installed trappesim version, with nothing heavy imported (``--version`` must answer at once)."""

from __future__ import annotations


def version() -> str:
    """The installed trappesim version (``0+unknown`` in a source tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v("trappesim")
    except PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"
