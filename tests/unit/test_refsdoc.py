import pytest

from registry.errors import Conflict, TemplateNotFound
from registry.git import refsdoc
from registry.git.refsdoc import ZERO_SHA, RefsDocument
from registry.storage import LocalBlobStore


def test_changes_roundtrip_and_exactness(tmp_path):
    store = LocalBlobStore(tmp_path)
    doc = refsdoc.create(store, "r1", RefsDocument())
    assert doc.exact and doc.refs == {}
    new = doc.with_changes({"refs/heads/main": "a" * 40}, ["repos/r1/packs/p1"])
    saved = refsdoc.swap(store, "r1", doc, new)
    loaded = refsdoc.load(store, "r1")
    assert loaded.refs == {"refs/heads/main": "a" * 40} and loaded.packs == ("repos/r1/packs/p1",)
    assert loaded.version == saved.version and loaded.exact
    deleted = loaded.with_changes({"refs/heads/main": ZERO_SHA}, [], rewrite=True)
    assert deleted.refs == {} and not deleted.exact
    assert not deleted.with_changes({"refs/heads/x": "b" * 40}, []).exact  # stays cleared


def test_swap_from_a_stale_read_conflicts(tmp_path):
    store = LocalBlobStore(tmp_path)
    doc = refsdoc.create(store, "r1", RefsDocument())
    refsdoc.swap(store, "r1", doc, doc.with_changes({"refs/heads/a": "a" * 40}, []))
    with pytest.raises(Conflict):
        refsdoc.swap(store, "r1", doc, doc.with_changes({"refs/heads/b": "b" * 40}, []))
    assert refsdoc.load(store, "r1").refs == {"refs/heads/a": "a" * 40}
    with pytest.raises(Conflict):
        refsdoc.create(store, "r1", RefsDocument())
    with pytest.raises(TemplateNotFound):
        refsdoc.load(store, "nope")
