"""meta.users: users and their tokens."""
from __future__ import annotations

import time

import pytest

from registry.errors import AlreadyExists, TokenNotFound, UserNotFound


class TestUserRepository:
    def test_users_are_unique_and_found_by_name_and_id(self, meta):
        alice = meta.users.add("alice", "a@example.com", False)
        assert meta.users.get("alice") == alice == meta.users.get_by_id(alice.id)
        with pytest.raises(AlreadyExists):
            meta.users.add("alice", None, True)
        with pytest.raises(UserNotFound):
            meta.users.get("nobody")
        with pytest.raises(UserNotFound):
            meta.users.get_by_id(alice.id + 1000)

    def test_tokens_are_found_by_hash_and_revoked(self, meta):
        alice = meta.users.add("alice", None, True)
        token = meta.users.add_token(alice.id, "h1", "admin", time.time() + 60)
        found = meta.users.find_token("h1")
        assert found is not None and found[0] == token and found[1] == alice and not token.revoked
        meta.users.revoke_token(token.id)
        again = meta.users.find_token("h1")
        assert again is not None and again[0].revoked
        assert meta.users.find_token("h2") is None
        second = meta.users.add_token(alice.id, "h2", "read", None)
        assert [t.id for t in meta.users.list_tokens(alice.id)] == [token.id, second.id]
        assert second.created_at > 0 and second.last_used_at is None
        meta.users.touch_token(second.id, 123.0)
        assert meta.users.get_token(second.id).last_used_at == 123.0
        with pytest.raises(TokenNotFound):
            meta.users.get_token(second.id + 100)
