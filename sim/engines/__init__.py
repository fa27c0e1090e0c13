"""The engines: the discrete-event simulation, its naive reference, the analytic engine, and their contract.

Every engine returns the same measures (:mod:`sim.engines.measures`): yearly arrays by
step, which :mod:`sim.engines.invariants` checks and economics turns into money.
"""
