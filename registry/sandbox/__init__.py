"""Sandbox runs of a template's tests/*.json: what a run does (runner) and where it runs (local)."""
