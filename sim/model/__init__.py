"""The model: a scenario compiled into the dynamics both engines run (rates, stays, places)."""
