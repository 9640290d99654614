import time

import pytest

from registry.access import ANONYMOUS, Actor, Level, authenticate, hash_token, issue_token, level, require
from registry.errors import InvalidInput, PermissionDenied, TemplateNotFound, Unauthenticated
from registry.meta import Template
from registry.meta.db import open_store
from registry.settings import Settings


@pytest.fixture
def meta(tmp_path):
    store = open_store(Settings(data_dir=tmp_path))
    for name in ("alice", "bob", "root"):
        store.users.add(name, None, name == "root")
    return store


def _template(meta, visibility):
    return meta.templates.add(Template(f"id-{visibility}", "alice", f"t-{visibility}", visibility, "", None, 0, 0))


def test_tokens_are_hashed_scoped_expiring_and_revocable(meta):
    alice = meta.users.get("alice")
    token = issue_token(meta, alice, "read")
    assert authenticate(meta, token).scope == "read"
    with meta.engine.connect() as c:  # only the hash is stored
        assert token not in repr(c.exec_driver_sql("SELECT * FROM tokens").all())
    expired = issue_token(meta, alice, "write", expires_days=1)
    found, _ = meta.users.find_token(hash_token(expired))
    with meta.engine.begin() as c:
        c.exec_driver_sql("UPDATE tokens SET expires_at=? WHERE id=?", (time.time() - 1, found.id))
    with pytest.raises(Unauthenticated, match="expired"):
        authenticate(meta, expired)
    meta.users.revoke_token(meta.users.find_token(hash_token(token))[0].id)
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(meta, token)
    with pytest.raises(Unauthenticated):
        authenticate(meta, "rgt_nonsense")
    with pytest.raises(InvalidInput):
        issue_token(meta, alice, "superuser")


def test_levels_by_role_visibility_and_scope(meta):
    alice, bob, root = (meta.users.get(n) for n in ("alice", "bob", "root"))
    public, private = _template(meta, "public"), _template(meta, "private")
    assert level(meta, ANONYMOUS, public) == Level.READ
    assert level(meta, ANONYMOUS, private) == Level.NONE
    assert level(meta, Actor(alice, "write"), private) == Level.OWN
    assert level(meta, Actor(alice, "read"), private) == Level.READ  # scope caps the role
    assert level(meta, Actor(bob, "write"), private) == Level.NONE
    meta.templates.set_collaborator(private.id, bob.id, "writer")
    assert level(meta, Actor(bob, "write"), private) == Level.WRITE
    assert level(meta, Actor(root, "admin"), private) == Level.OWN
    assert level(meta, Actor(root, "write"), private) == Level.NONE  # admin powers need an admin token
    with pytest.raises(TemplateNotFound):
        require(meta, ANONYMOUS, private, Level.READ)
    with pytest.raises(Unauthenticated):
        require(meta, ANONYMOUS, public, Level.WRITE)
    with pytest.raises(PermissionDenied):
        require(meta, Actor(bob, "write"), private, Level.MAINTAIN)
