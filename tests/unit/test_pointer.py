"""JSON Pointers: one escape, one parse (RFC 6901)."""

from __future__ import annotations

import pytest

from rounds import pointer


def test_join_escapes_tilde_before_slash() -> None:
    assert pointer.join() == ""
    assert pointer.join("answers", "shelf", 0, "sku") == "/answers/shelf/0/sku"
    assert pointer.join("a/b", "m~n", "~1") == "/a~1b/m~0n/~01"
    assert pointer.path(("evidence", "group/0/item")) == "/evidence/group~10~1item"
    assert pointer.child("/sections/0", "items", 3) == "/sections/0/items/3"


@pytest.mark.parametrize("tokens", [
    [], [""], ["a"], ["a/b", "c~d", "0"], ["~1", "~0", "/~"], ["中文", " ", "x/y/z"],
])
def test_parse_undoes_join(tokens: list[str]) -> None:
    assert pointer.parse(pointer.join(*tokens)) == tokens


def test_parse_unescapes_in_the_order_of_the_rfc() -> None:
    assert pointer.parse("/~01") == ["~1"]  # not "/"
    assert pointer.parse("/a~1b/") == ["a/b", ""]
    with pytest.raises(ValueError, match="not a JSON pointer"):
        pointer.parse("answers/x")


def test_nearest_names_the_deepest_place_holding_a_pointer() -> None:
    from rounds.pointer import nearest

    places = [("pool", "/pool"), ("pool_roles", "/pool/roles"), ("sample", "/sample/count"),
              ("sample", "/sample/share")]
    assert nearest("/pool/roles/0", places) == "pool_roles"
    assert nearest("/pool/max", places) == "pool"
    assert nearest("/sample/share", places) == "sample"
    assert nearest("/poolside", places) is None  # a prefix of a token is not a parent
    assert nearest("/title", places) is None
