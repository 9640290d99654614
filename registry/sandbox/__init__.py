"""Sandbox runs of a template's tests/*.json: what a run does (runner), where it runs (local
process, Fargate task), what it costs, and preparing its input (prepare). The use cases of
runs live in registry.services.runs."""
