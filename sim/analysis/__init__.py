"""Analyses over many runs: PSA, break-even, tornado, global sensitivity, calibration."""
