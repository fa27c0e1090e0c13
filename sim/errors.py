"""Trappesim's errors: one family, split by whose move it is.

- :class:`UserError` and its kinds are mistakes the user can fix: a
  scenario file, a data file, a results folder or an option. The command
  answers them in one line with exit code 2.
- Any other exception, :class:`InvariantError` among them, is a bug in
  Trappesim: the command shows the traceback and exits with 1.

Each user error is also the built-in exception it used to be (``ValueError``,
``FileExistsError``), so code that caught those still catches them.

>>> from sim.errors import ScenarioError, TrappesimError, UserError
>>> err = ScenarioError("a.toml", "steps.home.cost_per_year", "must be >= 0")
>>> isinstance(err, UserError) and isinstance(err, TrappesimError)
True
>>> str(err)
"a.toml: key 'steps.home.cost_per_year': must be >= 0"
"""

from __future__ import annotations


class TrappesimError(Exception):
    """Root of every error Trappesim raises on purpose."""


class UserError(TrappesimError):
    """A mistake the user can fix; the command says it in one line and exits with 2."""


class OptionError(UserError, ValueError):
    """An option or argument out of its range (an engine's name, a number of draws, ...)."""


class ScenarioError(UserError, ValueError):
    """A scenario file (or a change to a scenario) is not valid.

    Parameters
    ----------
    file : str
        The file the problem is in (or ``"<changes>"``).
    key : str
        Dotted key path, e.g. ``"steps.foster.cost_per_year"``.
    message : str
        What is wrong and what is allowed.
    """

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file, self.key, self.message = file, key, message
        where = f"{file}: " if file else ""
        at = f"key '{key}': " if key else ""
        super().__init__(f"{where}{at}{message}")

    def __reduce__(self):
        # Rebuilt from its three parts after pickling (an error raised in a worker process).
        return (type(self), (self.file, self.key, self.message))


class PairError(UserError, ValueError):
    """A baseline and a strategy that cannot be compared (other steps, years, area, money or adult life)."""


class DistributionError(UserError, ValueError):
    """A number given as a distribution is not a valid distribution."""


class DataFileError(ScenarioError):
    """A data file (observed stocks and flows, CSV) cannot be used."""


class EngineNotApplicable(UserError, ValueError):
    """The analytic engine cannot solve this scenario (e.g. Weibull stays)."""


class NothingUncertain(UserError, ValueError):
    """An uncertainty analysis was asked of scenarios with no number given as a distribution."""

    @staticmethod
    def advice(what: str) -> str:
        """The message: what is missing, and how to give it."""
        shares = "" if what == "psa" else " (a set of shares, dirichlet, is not varied on its own)"
        return (
            f"{what}: no number in either file is given as a distribution{shares}, so there is nothing "
            "to draw or vary and every run would be the same; write an uncertain number as one, e.g. "
            'cost_per_year = { dist = "gamma", mean = 470_000, sd = 60_000 } or, in [intervention], '
            'foster = { dist = "lognormal", median = 0.85, p95 = 1.0 } (docs: reference/scenario-file.md, "Uncertain numbers")'
        )


class ResultsFolderError(UserError, ValueError):
    """A results folder is not one Trappesim wrote, or not the kind asked for."""


class OutputExistsError(UserError, FileExistsError):
    """The results folder asked for exists already; it is never overwritten silently."""


class InvariantError(TrappesimError, AssertionError):
    """A table broke a law every run obeys: a bug in Trappesim, never the user's mistake.

    Parameters
    ----------
    violations : list
        What :mod:`sim.engines.invariants` found, the first shown in the message.
    """

    def __init__(self, violations: list) -> None:
        self.violations = violations
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(f"{violations[0]}{more}")

    def __reduce__(self):
        return (type(self), (self.violations,))


class PrecisionWarning(UserWarning):
    """The precision asked for was not reached within ``max_replications`` (the means are less precise
    than asked; the summary's ``mc_low`` and ``mc_high`` say how precise they are)."""
