"""Guarantee circles and chains in a directed graph of guarantees (guarantor → borrower).

Pure functions over a networkx ``DiGraph`` whose edges carry ``amount`` (Decimal, the sum
of the contracts in force between the two) and ``contracts``. No database.

A **circle** (担保圈) is a simple cycle: A guarantees B, B guarantees C, C guarantees A; two
enterprises guaranteeing each other (互保) are the smallest. Cycles are looked for only
inside strongly connected components, and at most ``max_length`` long: a long cycle in a
dense component says less than the component itself, which is reported by its circles.

A **chain** (担保链) is a maximal path of guarantees outside any circle: it starts at an
enterprise no one guarantees and ends at one that guarantees no one (or at a circle).
Only chains of at least ``min_members`` enterprises are reported: A → B is a guarantee,
A → B → C is a chain along which a default travels.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import networkx as nx

from xinyidai.graph.links import Guarantee

MAX_CIRCLE_LENGTH = 8
MIN_CHAIN_MEMBERS = 3
MAX_STRUCTURES = 20_000  # per kind and analysis; beyond it the analysis says "truncated"
WALK_FACTOR = 5

CIRCLE = "circle"
CHAIN = "chain"
KINDS = (CIRCLE, CHAIN)


def guarantee_graph(
    guarantees: Iterable[Guarantee], *, include_released: bool = False
) -> nx.DiGraph:
    """One edge per guarantor → borrower, with the amount and contracts behind it.

    Released guarantees (担保状态 已解除 …) bind nobody and are left out unless
    ``include_released``; an enterprise guaranteeing itself is not a circle.
    """
    graph = nx.DiGraph()
    for guarantee in guarantees:
        if guarantee.guarantor == guarantee.borrower:
            continue
        if not include_released and not guarantee.in_force:
            continue
        u, v = guarantee.guarantor, guarantee.borrower
        if graph.has_edge(u, v):
            data = graph.edges[u, v]
            data["amount"] += guarantee.amount
            data["contracts"].append(guarantee.contract)
            data["in_force"] = data["in_force"] or guarantee.in_force
        else:
            graph.add_edge(
                u,
                v,
                amount=guarantee.amount,
                contracts=[guarantee.contract],
                in_force=guarantee.in_force,
            )
    return graph


@dataclass(frozen=True, slots=True)
class StructureEdge:
    guarantor: str
    borrower: str
    amount: Decimal
    contracts: tuple[str, ...]
    in_force: bool


@dataclass(frozen=True, slots=True)
class Structure:
    """A circle (members in guarantee order, the last guarantees the first) or a chain."""

    kind: str
    members: tuple[str, ...]
    edges: tuple[StructureEdge, ...]

    @property
    def total_amount(self) -> Decimal:
        return sum((edge.amount for edge in self.edges), Decimal("0.00"))

    @property
    def in_force(self) -> bool:
        return all(edge.in_force for edge in self.edges)

    @property
    def fingerprint(self) -> str:
        """The same circle or chain gives the same fingerprint in every analysis."""
        text = self.kind + ":" + ">".join(self.members)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def canonical_circle(members: list[str]) -> tuple[str, ...]:
    """A cycle rotated to start at its smallest code, keeping the guarantee order."""
    start = members.index(min(members))
    return tuple(members[start:] + members[:start])


def _structure(graph: nx.DiGraph, kind: str, members: tuple[str, ...]) -> Structure:
    pairs = list(itertools.pairwise(members))
    if kind == CIRCLE:
        pairs.append((members[-1], members[0]))
    edges = []
    for u, v in pairs:
        data = graph.edges[u, v]
        edges.append(
            StructureEdge(u, v, data["amount"], tuple(data["contracts"]), bool(data["in_force"]))
        )
    return Structure(kind, members, tuple(edges))


def find_circles(
    graph: nx.DiGraph, *, max_length: int = MAX_CIRCLE_LENGTH, limit: int = MAX_STRUCTURES
) -> tuple[list[Structure], bool]:
    """Every simple cycle of at most ``max_length`` enterprises (up to ``limit``), in a
    stable order, and whether the limit cut the list short."""
    circles: list[tuple[str, ...]] = []
    truncated = False
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        sub = graph.subgraph(component)
        for cycle in nx.simple_cycles(sub, length_bound=max_length):
            if len(circles) >= limit:
                truncated = True
                break
            circles.append(canonical_circle(list(cycle)))
        if truncated:
            break
    circles.sort(key=lambda members: (len(members), members))
    return [_structure(graph, CIRCLE, members) for members in circles], truncated


def _acyclic_part(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph without the edges inside circles: what is left has no cycle."""
    component_of: dict[str, int] = {}
    for number, component in enumerate(nx.strongly_connected_components(graph)):
        for node in component:
            component_of[node] = number
    acyclic = nx.DiGraph()
    acyclic.add_nodes_from(graph)
    acyclic.add_edges_from((u, v) for u, v in graph.edges if component_of[u] != component_of[v])
    return acyclic


def _maximal_paths(dag: nx.DiGraph, start: str) -> Iterator[list[str]]:
    """Every path from ``start`` to an enterprise that guarantees no one, depth first."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        node, path = stack.pop()
        successors = sorted(dag.successors(node), reverse=True)
        if not successors:
            yield path
            continue
        for successor in successors:
            stack.append((successor, [*path, successor]))


def find_chains(
    graph: nx.DiGraph, *, min_members: int = MIN_CHAIN_MEMBERS, limit: int = MAX_STRUCTURES
) -> tuple[list[Structure], bool]:
    """Maximal guarantee paths outside circles with at least ``min_members`` enterprises
    (up to ``limit``), and whether the limit cut the list short."""
    dag = _acyclic_part(graph)
    chains: list[tuple[str, ...]] = []
    truncated = False
    walked = 0  # paths walked, short ones included: dense guarantee webs are cut short too
    starts = sorted(n for n in dag if dag.in_degree(n) == 0 and dag.out_degree(n) > 0)
    for start in starts:
        for path in _maximal_paths(dag, start):
            walked += 1
            if len(chains) >= limit or walked > WALK_FACTOR * limit:
                truncated = True
                break
            if len(path) >= min_members:
                chains.append(tuple(path))
        if truncated:
            break
    chains.sort(key=lambda members: (-len(members), members))
    return [_structure(graph, CHAIN, members) for members in chains], truncated


def circles_through(
    graph: nx.DiGraph, node: str, *, max_length: int = MAX_CIRCLE_LENGTH
) -> list[Structure]:
    """The simple cycles of at most ``max_length`` enterprises that pass through ``node``."""
    if node not in graph:
        return []
    found: set[tuple[str, ...]] = set()
    for successor in graph.successors(node):
        if successor == node:
            continue
        for path in nx.all_simple_paths(graph, successor, node, cutoff=max_length - 1):
            cycle = [node, *path[:-1]]
            if len(cycle) <= max_length:
                found.add(canonical_circle(cycle))
    return [
        _structure(graph, CIRCLE, members) for members in sorted(found, key=lambda m: (len(m), m))
    ]
