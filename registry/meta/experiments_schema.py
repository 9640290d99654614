"""The experiments' tables (migration 0017), on schema.metadata beside the rest: an experiment
(its variants resolved to commits, what it asked for, its state and progress) and its units,
each one variant's cases once, with the trials' outcomes as JSON once done.
registry/meta/sql_experiments.py reads and writes them."""
from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, PrimaryKeyConstraint, Table, Text

from .schema import metadata

experiments = Table(
    "experiments", metadata,
    Column("id", Text, primary_key=True),
    Column("template_id", Text, ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
    Column("requested_by", Text),
    Column("variants", Text, nullable=False),  # JSON [[ref, sha], ...]
    Column("cases", Text, nullable=False),  # JSON [name, ...]: the cases run
    Column("part_size", Integer, nullable=False),  # cases per unit
    Column("repetitions", Integer, nullable=False),
    Column("provider", Text),
    Column("state", Text, nullable=False),
    Column("units", Integer, nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Index("experiments_by_template", "template_id", "created_at"),
)

experiment_units = Table(
    "experiment_units", metadata,
    Column("experiment_id", Text, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("variant", Integer, nullable=False),
    Column("repetition", Integer, nullable=False),
    Column("part", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("trials", Text, nullable=False),  # JSON
    Column("error", Text),
    Column("spent_usd", Float, nullable=False, server_default="0"),  # the model calls' cost (the budget's)
    Column("queued_at", Float),
    Column("finished_at", Float),
    PrimaryKeyConstraint("experiment_id", "seq"),
    Index("experiment_units_by_state", "state", "queued_at"),
    Index("experiment_units_by_time", "finished_at"),
)
