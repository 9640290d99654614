"""meta.activity: stars, ratings, and usage per day."""
from __future__ import annotations

from .support import add_template


class TestActivityRepository:
    def test_stars_are_idempotent_and_ratings_upsert(self, meta):
        add_template(meta)
        a, b = meta.users.add("a", None, False), meta.users.add("b", None, False)
        for _ in range(2):
            meta.activity.set_star("alice-t", a.id, True)
        meta.activity.set_star("alice-t", b.id, True)
        meta.activity.rate("alice-t", a.id, 5, "great")
        meta.activity.rate("alice-t", a.id, 3, None)  # a user's second rating replaces the first
        meta.activity.rate("alice-t", b.id, 4, None)
        assert meta.activity.social("alice-t") == (2, 3.5, 2)
        assert meta.activity.has_star("alice-t", a.id) and not meta.activity.has_star("alice-t", a.id + 100)
        meta.activity.set_star("alice-t", a.id, False)
        assert meta.activity.social("alice-t")[0] == 1 and not meta.activity.has_star("alice-t", a.id)
        meta.activity.rate("alice-t", b.id, 4, "short and clear")
        assert [(r.user, r.score, r.review) for r in meta.activity.recent_ratings("alice-t")] == [("b", 4, "short and clear")]

    def test_usage_adds_up_per_day_without_lost_updates(self, meta):
        t = add_template(meta)
        meta.activity.add_usage(t.id, "2026-11-27", {"views": 2, "stars": 1})
        meta.activity.add_usage(t.id, "2026-11-27", {"views": 3})
        meta.activity.add_usage(t.id, "2026-11-28", {"clones": 1})
        days = meta.activity.usage(t.id, "2026-11-01", "2026-11-30")
        assert [(d.day, d.counts["views"], d.counts["stars"], d.counts["clones"]) for d in days] == [
            ("2026-11-27", 5, 1, 0), ("2026-11-28", 0, 0, 1)]
        assert meta.activity.usage_scores("2026-11-28", {"clones": 4.0, "views": 1.0}) == {t.id: 4.0}
        assert meta.activity.usage_scores("2026-11-01", {"clones": 4.0, "views": 1.0, "stars": 8.0},
                                 double_from="2026-11-28") == {t.id: 5 + 8 + 2 * 4.0}
