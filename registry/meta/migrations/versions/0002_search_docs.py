"""The gallery's search documents on PostgreSQL (REGISTRY_SEARCH=postgres): a weighted tsvector
under GIN, tags and readers as arrays under GIN. Nothing on SQLite (whoosh serves it there).

Revision ID: 0002
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
CREATE TABLE search_docs (
  id text PRIMARY KEY, owner text NOT NULL, name text NOT NULL, title text NOT NULL,
  name_words text NOT NULL DEFAULT '', description text NOT NULL DEFAULT '',
  industry text NOT NULL DEFAULT '', use_case text NOT NULL DEFAULT '',
  tags text[] NOT NULL DEFAULT '{}', display_tags text[] NOT NULL DEFAULT '{}',
  stars integer NOT NULL DEFAULT 0, rating double precision NOT NULL DEFAULT 0,
  updated_at double precision NOT NULL DEFAULT 0, readers text[] NOT NULL DEFAULT '{*}',
  -- what matches: set by each upsert from the fields and the README and prompt text, which are
  -- not kept (rows stay narrow: a broad query reads tens of thousands of them)
  document tsvector NOT NULL,
  -- what relevance is ranked on: the short fields (the whole document is ~6x larger to read)
  rank_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title || ' ' || name_words), 'A') ||
    setweight(array_to_tsvector(tags), 'B') || setweight(to_tsvector('english', description), 'B')) STORED,
  -- title words unstemmed, for type-ahead prefixes (small: a prefix scan stays in the index)
  title_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || name_words)) STORED)""")
    op.execute("CREATE INDEX search_docs_document ON search_docs USING gin (document)")
    op.execute("CREATE INDEX search_docs_title_words ON search_docs USING gin (title_words)")
    op.execute("CREATE INDEX search_docs_tags ON search_docs USING gin (tags)")
    # No index on readers: nearly every row is public, and a bitmap of all of them made every
    # text query read the whole index; readers filters the (few) matches instead.
    for column in ("industry", "use_case", "owner", "stars", "rating", "updated_at"):
        op.execute(f"CREATE INDEX search_docs_{column} ON search_docs ({column})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE search_docs")
