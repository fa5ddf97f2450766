"""One enterprise's neighbourhood, built per request from the records (depth ≤ 3, capped).

Breadth first: at each step the index of keys names the candidates sharing a key with the
frontier (or holding its shares, or guaranteeing its debts), the frontier's own records
name those it holds or guarantees, and every candidate's own records are read to check
the link still holds. Keys shared too widely (hubs) are counted, not followed. The node
cap keeps the answer drawable; the strongest links are followed first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
from sqlalchemy.orm import Session

from xinyidai.graph import cycles, index, links
from xinyidai.records import service as records_service

MAX_DEPTH = 3
MAX_NODES = 200
MAX_GUARANTEE_WALK = 2_000  # enterprises walked when looking for circles through one

# Which link is followed first when the node cap bites.
PRIORITY = {
    links.GUARANTEE: 0,
    links.SHAREHOLDING: 1,
    links.REPRESENTATIVE: 2,
    links.COMMON_SHAREHOLDER: 3,
    links.PHONE: 4,
    links.ADDRESS: 5,
}


@dataclass
class Neighbourhood:
    center: str
    depth: int
    distance: dict[str, int]
    subjects: dict[str, links.SubjectLinks]
    links: list[links.Link]
    hubs: dict[index.Key, int] = field(default_factory=dict)
    truncated: bool = False
    index_current: bool = True

    def names(self) -> dict[str, str]:
        """Names the records give: each subject's own, else how others' records name it."""
        found: dict[str, str] = {}
        for subject in self.subjects.values():
            for holding in subject.holders:
                if holding.holder_name:
                    found.setdefault(holding.holder, holding.holder_name)
            for guarantee in subject.guarantees:
                if guarantee.borrower_name:
                    found.setdefault(guarantee.borrower, guarantee.borrower_name)
        for code, subject in self.subjects.items():
            if subject.name:
                found[code] = subject.name
        return found


def _frontier_keys(frontier: list[str], subjects: dict[str, links.SubjectLinks]) -> set[index.Key]:
    return {key for code in frontier for key in subjects[code].shared_values()}


def explore(
    session: Session,
    *,
    code: str,
    depth: int,
    max_nodes: int = MAX_NODES,
    max_group: int = links.MAX_GROUP,
) -> Neighbourhood:
    """The enterprises within ``depth`` links of ``code`` and every link among them."""
    fresh = index.pending(session)
    subjects = index.load_links(session, [code])
    distance = {code: 0}
    hubs: dict[index.Key, int] = {}
    truncated = False
    frontier = [code]
    for level in range(1, depth + 1):
        if not frontier:
            break
        shared = _frontier_keys(frontier, subjects)
        sizes = index.group_sizes(session, shared, fresh)
        hubs.update({key: n for key, n in sizes.items() if n > max_group})
        wanted = (shared - hubs.keys()) | {
            (kind, f) for f in frontier for kind in (links.HOLDER, links.BORROWER)
        }
        candidates: set[str] = set()
        for codes in index.members(session, wanted, fresh).values():
            candidates |= codes
        for f in frontier:
            candidates |= {h.holder for h in subjects[f].holders}
            candidates |= {g.borrower for g in subjects[f].guarantees}
        candidates -= distance.keys()
        if not candidates:
            break
        subjects.update(index.load_links(session, candidates - subjects.keys()))
        pool = {c: subjects[c] for c in [*frontier, *candidates]}
        on_frontier = set(frontier)
        strongest: dict[str, int] = {}
        for link in links.links_among(pool, hubs=hubs.keys(), max_group=max_group):
            ends = {link.source, link.target}
            if len(ends & on_frontier) != 1:
                continue
            (other,) = ends - on_frontier
            strongest[other] = min(strongest.get(other, 99), PRIORITY[link.kind])
        reached = sorted(strongest, key=lambda c: (strongest[c], c))
        room = max_nodes - len(distance)
        if len(reached) > room:
            truncated = True
            reached = reached[: max(room, 0)]
        for c in reached:
            distance[c] = level
        frontier = reached
        if truncated:
            break
    nodes = {c: subjects[c] for c in distance}
    unchecked = {key for s in nodes.values() for key in s.shared_values()} - hubs.keys()
    sizes = index.group_sizes(session, unchecked, fresh)
    hubs.update({key: n for key, n in sizes.items() if n > max_group})
    return Neighbourhood(
        center=code,
        depth=depth,
        distance=distance,
        subjects=subjects,
        links=links.links_among(nodes, hubs=hubs.keys(), max_group=max_group),
        hubs=hubs,
        truncated=truncated,
        index_current=fresh.complete,
    )


def circles_through(
    session: Session, *, code: str, max_length: int = cycles.MAX_CIRCLE_LENGTH
) -> list[cycles.Structure]:
    """The guarantee circles (in force) through ``code``, read from the guarantee records.

    Walks guarantor → borrower from ``code`` at most ``max_length`` steps: a circle through
    it comes back to it that way.
    """
    guarantees: list[links.Guarantee] = []
    seen = {code}
    frontier = [code]
    for _ in range(max_length):
        if not frontier or len(seen) > MAX_GUARANTEE_WALK:
            break
        found = links.collect(
            records_service.current_data(
                session, categories=[links.GUARANTEE_CATEGORY], subject_codes=frontier
            )
        )
        step = [g for subject in found.values() for g in subject.guarantees if g.in_force]
        guarantees.extend(step)
        frontier = sorted({g.borrower for g in step} - seen)
        seen.update(frontier)
    graph: nx.DiGraph = cycles.guarantee_graph(guarantees)
    return cycles.circles_through(graph, code, max_length=max_length)
