"""The private set intersection as pure functions: both sides end with the same
intersection in the same order, a point that is not in the group is refused, and a party's
points say nothing a guess could check without its secret."""

from __future__ import annotations

import pytest

from xinyidai.core.errors import ValidationFailed
from xinyidai.joint import psi


def run(institution: list[str], center: list[str]) -> tuple[list[psi.Match], list[str]]:
    """The whole protocol between two parties; the institution's matches and the center's
    identifiers at the matched positions."""
    a, c = psi.new_secret(), psi.new_secret()
    sent = psi.shuffled(institution)
    request = psi.blind_identifiers(a, sent)
    answer = psi.blind_points(c, request)
    center_order = psi.shuffled(center)
    offered = psi.blind_identifiers(c, center_order)
    matches = psi.intersect(a, sent, answer, offered)
    return matches, [center_order[m.position] for m in matches]


def test_both_sides_hold_the_intersection_in_the_same_order() -> None:
    institution = [f"C{i:05d}" for i in range(0, 300, 2)]
    center = [f"C{i:05d}" for i in range(0, 300, 3)]
    matches, at_center = run(institution, center)
    expected = sorted(set(institution) & set(center))
    assert sorted(m.identifier for m in matches) == expected
    assert [m.identifier for m in matches] == at_center
    assert [m.position for m in matches] == sorted(m.position for m in matches)


def test_disjoint_and_empty_sets_meet_in_nothing() -> None:
    assert run(["A", "B"], ["C", "D"]) == ([], [])
    assert run([], ["C"]) == ([], [])
    assert run(["A"], []) == ([], [])


def test_blinding_commutes_and_hides_the_identifier() -> None:
    a, c = psi.new_secret(), psi.new_secret()
    point = psi.hash_to_point("91450100MA5KXXXX0X")
    assert psi.blind(a, psi.blind(c, point)) == psi.blind(c, psi.blind(a, point))
    # without the secret a guess cannot be checked: the blinded point is not the hash
    assert psi.blind(a, point) != point
    assert psi.blind(a, point) != psi.blind(c, point)


@pytest.mark.parametrize("rubbish", [b"", b"\x00" * 32, b"\xff" * 32, b"\x01" * 31])
def test_a_point_not_in_the_group_is_refused(rubbish: bytes) -> None:
    with pytest.raises(ValidationFailed) as refused:
        psi.blind_points(psi.new_secret(), [rubbish])
    assert refused.value.field == "points"


def test_an_answer_of_the_wrong_length_is_refused() -> None:
    a = psi.new_secret()
    with pytest.raises(ValidationFailed) as refused:
        psi.intersect(a, ["A", "B"], [psi.hash_to_point("A")], [])
    assert refused.value.field == "points"
