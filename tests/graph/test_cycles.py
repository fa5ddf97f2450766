"""Circles and chains in a guarantee graph (pure, no database)."""

from __future__ import annotations

from decimal import Decimal

from xinyidai.graph import cycles
from xinyidai.graph.links import Guarantee


def g(guarantor: str, borrower: str, amount: str = "100.00", status: str = "正常") -> Guarantee:
    return Guarantee(
        guarantor=guarantor,
        borrower=borrower,
        borrower_name=None,
        contract=f"{guarantor}{borrower}",
        amount=Decimal(amount),
        status=status,
        start_on=None,
        end_on=None,
    )


def test_a_cycle_of_guarantees_is_a_circle_in_guarantee_order() -> None:
    graph = cycles.guarantee_graph([g("C", "A", "3.00"), g("A", "B", "1.00"), g("B", "C", "2.00")])
    circles, truncated = cycles.find_circles(graph)
    assert not truncated
    assert [c.members for c in circles] == [("A", "B", "C")]
    assert circles[0].total_amount == Decimal("6.00")
    assert [(e.guarantor, e.borrower, e.amount) for e in circles[0].edges] == [
        ("A", "B", Decimal("1.00")),
        ("B", "C", Decimal("2.00")),
        ("C", "A", Decimal("3.00")),
    ]


def test_a_chain_that_is_not_a_cycle_is_not_a_circle() -> None:
    graph = cycles.guarantee_graph([g("A", "B"), g("B", "C"), g("C", "D")])
    circles, _ = cycles.find_circles(graph)
    chains, _ = cycles.find_chains(graph)
    assert circles == []
    assert [c.members for c in chains] == [("A", "B", "C", "D")]
    assert chains[0].kind == cycles.CHAIN


def test_mutual_guarantees_are_the_smallest_circle() -> None:
    circles, _ = cycles.find_circles(cycles.guarantee_graph([g("B", "A"), g("A", "B")]))
    assert [c.members for c in circles] == [("A", "B")]


def test_a_released_guarantee_breaks_a_circle_unless_asked_for() -> None:
    contracts = [g("A", "B"), g("B", "C"), g("C", "A", status="已解除")]
    assert cycles.find_circles(cycles.guarantee_graph(contracts))[0] == []
    with_released = cycles.guarantee_graph(contracts, include_released=True)
    (circle,), _ = cycles.find_circles(with_released)
    assert not circle.in_force


def test_guaranteeing_oneself_is_not_a_circle() -> None:
    assert cycles.find_circles(cycles.guarantee_graph([g("A", "A")]))[0] == []


def test_short_chains_are_not_reported() -> None:
    graph = cycles.guarantee_graph([g("A", "B"), g("X", "Y"), g("Y", "Z")])
    chains, _ = cycles.find_chains(graph)
    assert [c.members for c in chains] == [("X", "Y", "Z")]
    assert [c.members for c in cycles.find_chains(graph, min_members=2)[0]] == [
        ("X", "Y", "Z"),
        ("A", "B"),
    ]


def test_a_chain_feeding_a_circle_ends_at_the_circle() -> None:
    graph = cycles.guarantee_graph([g("X", "Y"), g("Y", "A"), g("A", "B"), g("B", "A")])
    circles, _ = cycles.find_circles(graph)
    chains, _ = cycles.find_chains(graph)
    assert [c.members for c in circles] == [("A", "B")]
    assert [c.members for c in chains] == [("X", "Y", "A")]


def test_contracts_between_the_same_pair_add_up() -> None:
    graph = cycles.guarantee_graph([g("A", "B", "1.50"), g("A", "B", "2.50"), g("B", "A")])
    (circle,), _ = cycles.find_circles(graph)
    assert circle.edges[0].amount == Decimal("4.00")
    assert len(circle.edges[0].contracts) == 2


def test_the_limit_cuts_a_dense_web_short_and_says_so() -> None:
    nodes = [f"N{i}" for i in range(7)]
    graph = cycles.guarantee_graph([g(a, b) for a in nodes for b in nodes if a != b])
    circles, truncated = cycles.find_circles(graph, limit=50)
    assert truncated
    assert len(circles) == 50


def test_circles_through_one_enterprise() -> None:
    graph = cycles.guarantee_graph(
        [g("A", "B"), g("B", "A"), g("B", "C"), g("C", "D"), g("D", "B"), g("E", "A")]
    )
    assert [c.members for c in cycles.circles_through(graph, "A")] == [("A", "B")]
    assert [c.members for c in cycles.circles_through(graph, "B")] == [
        ("A", "B"),
        ("B", "C", "D"),
    ]
    assert cycles.circles_through(graph, "E") == []


def test_the_same_circle_has_the_same_fingerprint_whoever_starts_it() -> None:
    first = cycles.find_circles(cycles.guarantee_graph([g("A", "B"), g("B", "C"), g("C", "A")]))
    second = cycles.find_circles(cycles.guarantee_graph([g("B", "C"), g("C", "A"), g("A", "B")]))
    assert first[0][0].fingerprint == second[0][0].fingerprint
