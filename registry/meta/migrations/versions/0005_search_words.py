"""Search that finds what people mean (PostgreSQL only, like search_docs):
- `rank_vector` becomes a column each upsert sets, from text in American spelling (a generated
  column could not call the spelling rules), holding tag words too;
- `search_words`: the vocabulary (unstemmed words of titles, names, tags, descriptions and the
  start of READMEs and prompts) under a trigram index, for one-typo matches and "did you mean".
Rows written before this keep working; `registry reindex` rewrites them with the new rules.

Revision ID: 0005
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("ALTER TABLE search_docs DROP COLUMN rank_vector")
    op.execute("ALTER TABLE search_docs ADD COLUMN rank_vector tsvector NOT NULL DEFAULT ''")
    op.execute("""UPDATE search_docs SET rank_vector =
        setweight(to_tsvector('english', title || ' ' || name_words), 'A') ||
        strip(to_tsvector('english', array_to_string(tags, ' '))) ||
        setweight(to_tsvector('english', description), 'B')""")
    op.execute("CREATE TABLE search_words (word text PRIMARY KEY)")
    op.execute("CREATE INDEX search_words_trgm ON search_words USING gin (word gin_trgm_ops)")
    op.execute("""INSERT INTO search_words SELECT word FROM ts_stat(
        'SELECT to_tsvector(''simple'', title || '' '' || name_words || '' '' || description) FROM search_docs')
        ON CONFLICT DO NOTHING""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE search_words")
    op.execute("ALTER TABLE search_docs DROP COLUMN rank_vector")
    op.execute("""ALTER TABLE search_docs ADD COLUMN rank_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title || ' ' || name_words), 'A') ||
        setweight(array_to_tsvector(tags), 'B') || setweight(to_tsvector('english', description), 'B')) STORED""")
