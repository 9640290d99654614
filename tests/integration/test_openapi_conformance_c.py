"""Shard 2 of the OpenAPI contract run (tests/conformance.py): every third operation."""
from __future__ import annotations

from tests.conformance import every_operation_keeps_its_contract, fixtures, unlimited_env  # noqa: F401 (fixtures)


def test_every_operation_keeps_its_contract(fixtures):  # noqa: F811
    every_operation_keeps_its_contract(fixtures, 2)
