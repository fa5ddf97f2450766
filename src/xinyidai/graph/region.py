"""Region-wide work: the analysis that finds every guarantee circle and chain, rebuilds the
index of keys on the way and stores every enterprise's bad-neighbour counts from it
(``contagion``).

The analysis reads every link record of the region into memory (networkx graphs): at
province scale (250,000 enterprises) that is a few hundred MB for a minute or so, run as a
job; docs/graph.md says what replaces it beyond. ``bad_neighbour_counts_from_records`` is
the counts computed the direct way, walking a graph built from the link records: slower,
kept as the reference the set-based counts are checked against.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.ids import new_id
from xinyidai.graph import contagion, cycles, index, links
from xinyidai.graph.models import (
    DONE,
    RUNNING,
    GraphAnalysis,
    GuaranteeStructure,
    StructureMember,
)
from xinyidai.graph.schemas import BadNeighbours
from xinyidai.records import service as records_service

Step = Callable[[str], None]


def _ms(since: float) -> int:
    return int((time.perf_counter() - since) * 1000)


def _edge_json(edge: cycles.StructureEdge) -> dict[str, Any]:
    return {
        "guarantor": edge.guarantor,
        "borrower": edge.borrower,
        "amount": str(edge.amount),
        "contracts": list(edge.contracts),
        "in_force": edge.in_force,
    }


def _store(session: Session, analysis_id: str, structures: list[cycles.Structure]) -> None:
    rows = [
        GuaranteeStructure(
            analysis_id=analysis_id,
            kind=s.kind,
            size=len(s.members),
            members=list(s.members),
            edges=[_edge_json(e) for e in s.edges],
            total_amount=s.total_amount.quantize(Decimal("0.01")),
            in_force=s.in_force,
            fingerprint=s.fingerprint,
        )
        for s in structures
    ]
    session.add_all(rows)
    session.flush()
    session.add_all(
        StructureMember(structure_id=row.id, position=position, credit_code=code)
        for row in rows
        for position, code in enumerate(row.members)
    )
    session.flush()


def _forget_older(session: Session, keep: str) -> None:
    """Drop the circles and chains of earlier analyses (their summary rows stay)."""
    older = select(GuaranteeStructure.id).where(GuaranteeStructure.analysis_id != keep)
    session.execute(delete(StructureMember).where(StructureMember.structure_id.in_(older)))
    session.execute(delete(GuaranteeStructure).where(GuaranteeStructure.analysis_id != keep))


def analyse(
    session: Session,
    *,
    include_released: bool = False,
    min_chain: int = cycles.MIN_CHAIN_MEMBERS,
    max_circle: int = cycles.MAX_CIRCLE_LENGTH,
    actor: str | None = None,
    job_id: str | None = None,
    step: Step | None = None,
    on: date | None = None,
) -> GraphAnalysis:
    """Read the region's link records, rebuild the index of keys, find every guarantee
    circle and chain, and store them as the latest analysis; count every enterprise's bad
    neighbours from the new index (bad signals as of ``on``, today by default) and store
    the counts in place of the last."""
    started = time.perf_counter()
    analysis = GraphAnalysis(
        id=new_id("gra"),
        state=RUNNING,
        actor=actor,
        job_id=job_id,
        include_released=include_released,
        min_chain=min_chain,
        max_circle=max_circle,
        started_at=clock.now(),
    )
    session.add(analysis)
    session.flush()
    announce = step or (lambda _message: None)
    announce("reading link records")
    mark = records_service.last_change_id(session)
    subjects = index.load_links(session, None)
    all_guarantees = [g for s in subjects.values() for g in s.guarantees]
    analysis.read_ms = _ms(started)
    announce("rebuilding the index of keys")
    analysis.index_keys = index.rebuild(session, subjects=subjects, mark=mark)
    announce("looking for circles and chains")
    searching = time.perf_counter()
    graph = cycles.guarantee_graph(all_guarantees, include_released=include_released)
    circles, cut_circles = cycles.find_circles(graph, max_length=max_circle)
    chains, cut_chains = cycles.find_chains(graph, min_members=min_chain)
    analysis.search_ms = _ms(searching)
    announce("storing")
    _store(session, analysis.id, [*circles, *chains])
    _forget_older(session, analysis.id)
    announce("counting bad neighbours")
    counting = time.perf_counter()
    day = on or clock.today()
    counts = contagion.count_region(session, on=day)
    analysis.bad_neighbours = contagion.store(session, counts, analysis_id=analysis.id, on=day)
    analysis.counts_as_of = day
    analysis.counts_ms = _ms(counting)
    analysis.enterprises = len(subjects)
    analysis.guarantees = graph.number_of_edges()
    analysis.circles = len(circles)
    analysis.chains = len(chains)
    analysis.truncated = cut_circles or cut_chains
    analysis.state = DONE
    analysis.finished_at = clock.now()
    analysis.total_ms = _ms(started)
    session.flush()
    return analysis


def association_graph(
    subjects: dict[str, links.SubjectLinks], *, max_group: int = links.MAX_GROUP
) -> dict[str, set[str]]:
    """Enterprise → the enterprises linked to it (any kind, either direction)."""
    nodes = dict(subjects)
    for subject in subjects.values():
        for code in [h.holder for h in subject.holders] + [g.borrower for g in subject.guarantees]:
            nodes.setdefault(code, links.SubjectLinks(code=code))
    adjacency: dict[str, set[str]] = {code: set() for code in nodes}
    for link in links.links_among(nodes, max_group=max_group):
        adjacency[link.source].add(link.target)
        adjacency[link.target].add(link.source)
    return adjacency


def bad_neighbours(adjacency: dict[str, set[str]], bad: set[str]) -> dict[str, BadNeighbours]:
    """For every enterprise: the bad ones one link away, and exactly two links away."""
    depth1 = dict.fromkeys(adjacency, 0)
    depth2 = dict.fromkeys(adjacency, 0)
    for source in sorted(bad & adjacency.keys()):
        seen = {source}
        queue = deque([(source, 0)])
        while queue:
            node, hops = queue.popleft()
            if hops == 2:
                continue
            for other in adjacency[node]:
                if other in seen:
                    continue
                seen.add(other)
                if hops == 0:
                    depth1[other] += 1
                else:
                    depth2[other] += 1
                queue.append((other, hops + 1))
    return {code: BadNeighbours(depth1[code], depth2[code]) for code in adjacency}


def bad_neighbour_counts_from_records(
    session: Session, *, max_group: int = links.MAX_GROUP
) -> dict[str, BadNeighbours]:
    """Every linked enterprise's bad neighbours at depth 1 and 2, by walking a graph of the
    region's link records (the reference for ``contagion.count_region``). Enterprises
    without any link are absent: zero."""
    subjects = index.load_links(session, None)
    adjacency = association_graph(subjects, max_group=max_group)
    bad = set(
        links.bad_signals(records_service.current_data(session, categories=links.BAD_CATEGORIES))
    )
    return bad_neighbours(adjacency, bad)
