import pytest

from registry.errors import InvalidName
from registry.git.policy import RefUpdate, ref_name_problem
from registry.names import check_name


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/heads/feature/x-1", "refs/tags/v1.2.0"])
def test_good_ref_names(ref):
    assert ref_name_problem(ref) is None


@pytest.mark.parametrize("ref, reason", [
    ("HEAD", "only refs/heads/* and refs/tags/* may be pushed"),
    ("refs/heads/../x", "invalid ref name"),
    ("refs/heads/x.lock", "invalid ref name"),
    ("refs/heads/a\x7fb", "invalid ref name (control character)"),
    ("refs/heads/a\nb", "invalid ref name (control character)"),
    ("refs/heads/@{x}", "invalid ref name"),
    ("refs/heads/.hidden", "invalid ref name"),
    ("refs/pull/3/head", "refs/pull/ is managed by the registry"),
])
def test_bad_ref_names(ref, reason):
    assert ref_name_problem(ref) == reason


def test_update_kinds():
    zero = "0" * 40
    assert RefUpdate("refs/heads/x", zero, "a" * 40).is_create
    assert RefUpdate("refs/heads/x", "a" * 40, zero).is_delete


@pytest.mark.parametrize("name", ["a", "prompt-1", "x.y_z", "a" * 63])
def test_good_template_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "..", "a..b", "-a", ".a", "A", "a/b", "a.git", "a" * 64, "a\x00", "é"])
def test_bad_template_names(name):
    with pytest.raises(InvalidName):
        check_name(name)
