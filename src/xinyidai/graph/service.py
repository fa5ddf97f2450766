"""Business logic of association analysis, as the API, the portal, the CLI and jobs use it.

- ``associations``: one enterprise's neighbourhood (who is linked to it, how, which of
  them are bad now) and the guarantee circles and chains it is part of;
- ``analyse`` / ``start_analysis``: the region-wide search for guarantee circles and
  chains, stored as the latest analysis; ``structures`` lists what it found;
- ``associated_bad_signals`` (one enterprise) and ``bad_neighbour_counts`` (all at once):
  the risk an enterprise draws from bad neighbours; ``stored_bad_neighbours`` the counts
  the last analysis stored, which the rating reads as indicators, and
  ``recount_around`` what keeps them current when an enterprise turns bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from xinyidai.consent.schemas import BASIS_OPERATOR, Decision
from xinyidai.core import clock, jobs, queue
from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.core.pagination import paginate
from xinyidai.graph import contagion, cycles, index, links, neighbourhood, region
from xinyidai.graph.models import DONE, GraphAnalysis, GuaranteeStructure, StructureMember
from xinyidai.graph.schemas import (
    AnalysisIn,
    AssociatedSignalOut,
    AssociationsOut,
    BadNeighbours,
    EdgeOut,
    HubOut,
    NodeOut,
    StructureEdgeOut,
    StructureOut,
)
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.privacy import service as privacy
from xinyidai.privacy.schemas import RAW
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service

if TYPE_CHECKING:
    import polars as pl

JOB_KIND = "graph.analyse"
ANALYSE_TASK = "graph.analyse_region"  # the queue task that runs a JOB_KIND job
MAX_DEPTH = neighbourhood.MAX_DEPTH
DEFAULT_DEPTH = 2

analyse = region.analyse
refresh_index = index.refresh
BAD_CATEGORIES = links.BAD_CATEGORIES


def rebuild_index(session: Session) -> int:
    """Rebuild the index of link keys from every link record; the number of keys."""
    mark = records_service.last_change_id(session)
    return index.rebuild(session, subjects=index.load_links(session, None), mark=mark)


@dataclass(frozen=True)
class Viewer:
    """Who looks at a neighbourhood: the operator sees everything; anyone else sees
    people's names and phones masked (PIPL) and amounts only of guarantees it is party to.
    A person link is shown raw where the grading of its field says so: of ``public_people``
    kinds on every link (the field is public, as a legal representative's name is), of
    ``raw_people`` kinds on the links of ``subject``, whose data the access decision shows
    raw to the viewer."""

    sees_everything: bool
    credit_code: str | None = None
    subject: str | None = None
    raw_people: frozenset[str] = frozenset()
    public_people: frozenset[str] = frozenset()

    def shows_raw(self, link: links.Link) -> bool:
        if self.sees_everything or link.kind in self.public_people:
            return True
        return link.kind in self.raw_people and self.subject in (link.source, link.target)


OPERATOR_VIEW = Viewer(sees_everything=True)

PERSON_FIELDS = {links.REPRESENTATIVE, links.COMMON_SHAREHOLDER, links.PHONE}

# The catalogue field a person link's value is, whose grading decides how it is shown.
PERSON_SOURCES = {
    links.REPRESENTATIVE: (links.REGISTRATION, "legal_representative"),
    links.COMMON_SHAREHOLDER: (links.SHAREHOLDER, "shareholder_name"),
    links.PHONE: (links.REGISTRATION, "phone"),
}


def mask_person(name: str) -> str:
    """张三丰 → 张**: the surname stays, the given name does not."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str) -> str:
    """13912345678 → 139****5678."""
    if len(phone) <= 7:
        return phone[:2] + "*" * (len(phone) - 2)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def check_depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise ValidationFailed(
            "depth must be from 1 to {maximum}", field="depth", maximum=MAX_DEPTH
        )
    return depth


# ----------------------------------------------------------------------- neighbourhood


def _names(session: Session, codes: Sequence[str], fallback: dict[str, str]) -> dict[str, str]:
    known = registry_service.get_many_by_code(session, credit_codes=codes)
    return {c: known[c].name if c in known else fallback.get(c, "") for c in codes}


def bad_signals_of(session: Session, codes: Sequence[str]) -> dict[str, dict[str, date | None]]:
    """Enterprise → the bad-signal categories its current records show, each with the date
    of its latest such record (for these codes)."""
    if not codes:
        return {}
    return links.bad_signals(
        records_service.current_data(session, categories=links.BAD_CATEGORIES, subject_codes=codes)
    )


def _edge_out(link: links.Link, viewer: Viewer) -> EdgeOut:
    detail: dict[str, Any] = dict(link.detail)
    if not viewer.shows_raw(link):
        if link.kind in (links.REPRESENTATIVE, links.COMMON_SHAREHOLDER):
            detail["value"] = mask_person(str(detail["value"]))
        elif link.kind == links.PHONE:
            detail["value"] = mask_phone(str(detail["value"]))
        elif link.kind == links.GUARANTEE and viewer.credit_code not in (link.source, link.target):
            detail["amount"] = None
            detail["contracts"] = None
    return EdgeOut(
        source=link.source,
        target=link.target,
        kind=link.kind,
        directed=link.kind in links.DIRECTED_KINDS,
        detail=detail,
    )


def structure_out(
    structure: cycles.Structure | GuaranteeStructure,
    *,
    names: dict[str, str],
    viewer: Viewer = OPERATOR_VIEW,
) -> StructureOut:
    """A circle or chain as the API gives it; amounts hidden where they are not the
    viewer's to see (guarantees between two other enterprises)."""
    if isinstance(structure, GuaranteeStructure):
        members = list(structure.members)
        raw_edges = [
            (
                e["guarantor"],
                e["borrower"],
                Decimal(e["amount"]),
                list(e["contracts"]),
                bool(e["in_force"]),
            )
            for e in structure.edges
        ]
        extra: dict[str, Any] = {"id": structure.id, "analysis_id": structure.analysis_id}
    else:
        members = list(structure.members)
        raw_edges = [
            (e.guarantor, e.borrower, e.amount, list(e.contracts), e.in_force)
            for e in structure.edges
        ]
        extra = {}
    edges = []
    hidden = False
    for guarantor, borrower, amount, contracts, in_force in raw_edges:
        mine = viewer.sees_everything or viewer.credit_code in (guarantor, borrower)
        hidden = hidden or not mine
        edges.append(
            StructureEdgeOut(
                guarantor=guarantor,
                borrower=borrower,
                amount=amount if mine else None,
                contracts=contracts if mine else None,
                in_force=in_force,
            )
        )
    total = sum((e[2] for e in raw_edges), Decimal("0.00"))
    return StructureOut(
        kind=structure.kind,
        size=len(members),
        members=members,
        names=[names.get(c) for c in members],
        edges=edges,
        total_amount=None if hidden else total,
        in_force=all(e[4] for e in raw_edges),
        fingerprint=structure.fingerprint,
        **extra,
    )


def associations(
    session: Session, *, code: str, depth: int = DEFAULT_DEPTH, viewer: Viewer = OPERATOR_VIEW
) -> AssociationsOut:
    """The enterprises within ``depth`` links of ``code``, the links among them, whether
    each is bad now, and the guarantee circles and chains ``code`` is part of."""
    check_depth(depth)
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    found = neighbourhood.explore(session, code=subject.credit_code, depth=depth)
    codes = sorted(found.distance, key=lambda c: (found.distance[c], c))
    circles = neighbourhood.circles_through(session, code=subject.credit_code)
    chains = structures_of(session, code=subject.credit_code, kind=cycles.CHAIN)
    structure_codes = {m for c in circles for m in c.members} | {
        m for row in chains for m in row.members
    }
    names = _names(session, sorted(set(codes) | structure_codes), found.names())
    signals = bad_signals_of(session, codes)
    return AssociationsOut(
        code=subject.credit_code,
        depth=depth,
        nodes=[
            NodeOut(
                code=c,
                name=names.get(c) or None,
                distance=found.distance[c],
                bad=bool(signals.get(c)),
                signals=sorted(signals.get(c, ())),
            )
            for c in codes
        ],
        edges=[_edge_out(link, viewer) for link in found.links],
        circles=[structure_out(s, names=names, viewer=viewer) for s in circles],
        chains=[structure_out(s, names=names, viewer=viewer) for s in chains],
        hubs=[
            HubOut(kind=kind, members=n)
            for (kind, _), n in sorted(found.hubs.items(), key=lambda item: (item[0][0], -item[1]))
        ],
        truncated=found.truncated,
        index_current=found.index_current,
    )


def associated_bad_signals(
    session: Session, *, code: str, depth: int = DEFAULT_DEPTH
) -> list[AssociatedSignalOut]:
    """The bad enterprises linked to ``code`` within ``depth``, by distance and link kind."""
    check_depth(depth)
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    found = neighbourhood.explore(session, code=subject.credit_code, depth=depth)
    others = [c for c in found.distance if c != subject.credit_code]
    signals = bad_signals_of(session, others)
    via: dict[str, set[str]] = {}
    for link in found.links:
        for near, far in ((link.source, link.target), (link.target, link.source)):
            if found.distance.get(near, -1) == found.distance.get(far, -1) - 1:
                via.setdefault(far, set()).add(link.kind)
    names = _names(session, sorted(signals), found.names())
    return [
        AssociatedSignalOut(
            code=c,
            name=names.get(c) or None,
            distance=found.distance[c],
            via=sorted(via.get(c, ())),
            signals=sorted(signals[c]),
            since=max((d for d in signals[c].values() if d is not None), default=None),
        )
        for c in sorted(signals, key=lambda c: (found.distance[c], c))
    ]


def bad_neighbours_of(session: Session, *, code: str) -> BadNeighbours:
    """``code``'s bad neighbours at depth 1 and 2 (the one-enterprise form of the indicator)."""
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    return bad_neighbours_among(session, codes=[subject.credit_code])[subject.credit_code]


def bad_neighbours_among(session: Session, *, codes: Sequence[str]) -> dict[str, BadNeighbours]:
    """Each code's bad neighbours at depth 1 and 2, from its neighbourhood as the records
    say now (``bad_neighbours_of`` for several at once; codes need not be registered)."""
    found = {
        code: neighbourhood.explore(session, code=code, depth=2).distance
        for code in dict.fromkeys(codes)
    }
    signals = bad_signals_of(session, sorted({c for near in found.values() for c in near}))
    return {
        code: BadNeighbours(
            depth1=sum(1 for c, d in near.items() if d == 1 and signals.get(c)),
            depth2=sum(1 for c, d in near.items() if d == 2 and signals.get(c)),
        )
        for code, near in found.items()
    }


def bad_neighbour_counts(session: Session) -> dict[str, BadNeighbours]:
    """Every enterprise's bad neighbours at depth 1 and 2, counted afresh for the region at
    once (set-based, from the index of keys brought up to date first). Enterprises with
    none are absent: zero."""
    index.refresh(session)
    return contagion.as_mapping(contagion.count_region(session))


def stored_bad_neighbours(
    session: Session, *, credit_codes: Sequence[str] | None = None
) -> pl.DataFrame:
    """The bad-neighbour counts as last stored (by the region analysis, or counted again on
    arrival), of these codes or all: ``credit_code``, ``depth1``, ``depth2``; only
    enterprises with any. What the rating reads."""
    return contagion.stored(session, credit_codes=credit_codes)


def recount_around(session: Session, *, codes: Sequence[str]) -> list[str]:
    """Count again, and store, the bad neighbours of every enterprise within two links of
    ``codes`` (enterprises whose bad signals may have changed); the enterprises whose
    stored counts changed."""
    affected: set[str] = set()
    for code in dict.fromkeys(codes):
        near = neighbourhood.explore(session, code=code, depth=2).distance
        affected.update(c for c in near if c != code)
    if not affected:
        return []
    counts = bad_neighbours_among(session, codes=sorted(affected))
    return contagion.replace(session, counts, on=clock.today())


# ---------------------------------------------------------------------------- analyses


def latest_analysis(session: Session) -> GraphAnalysis | None:
    """The newest finished region analysis, or None."""
    return session.scalar(
        select(GraphAnalysis)
        .where(GraphAnalysis.state == DONE)
        .order_by(GraphAnalysis.finished_at.desc(), GraphAnalysis.id.desc())
        .limit(1)
    )


def latest_analysis_or_raise(session: Session) -> GraphAnalysis:
    analysis = latest_analysis(session)
    if analysis is None:
        raise NotFound("no region analysis has run yet", field="analysis")
    return analysis


def get_analysis_or_raise(session: Session, *, analysis_id: str) -> GraphAnalysis:
    analysis = session.get(GraphAnalysis, analysis_id)
    if analysis is None:
        raise NotFound("no analysis {id}", field="analysis_id", id=analysis_id)
    return analysis


def analyses_statement() -> Select[Any]:
    """The region analyses, newest first."""
    return select(GraphAnalysis).order_by(GraphAnalysis.started_at.desc(), GraphAnalysis.id.desc())


def structures_statement(
    session: Session, *, kind: str | None = None, member: str | None = None
) -> Select[Any]:
    """The latest analysis's circles and chains (circles first, the largest amounts first),
    optionally of one kind or through one enterprise; none before the first analysis."""
    if kind is not None and kind not in cycles.KINDS:
        raise ValidationFailed(
            "kind must be one of {kinds}", field="kind", kinds=", ".join(cycles.KINDS)
        )
    code = registry_service.parse_code_or_raise(member, field="member") if member else None
    analysis = latest_analysis(session)
    stmt = select(GuaranteeStructure).where(
        GuaranteeStructure.analysis_id == analysis.id if analysis is not None else false()
    )
    if kind is not None:
        stmt = stmt.where(GuaranteeStructure.kind == kind)
    if code is not None:
        stmt = stmt.where(
            GuaranteeStructure.id.in_(
                select(StructureMember.structure_id).where(StructureMember.credit_code == code)
            )
        )
    return stmt.order_by(
        GuaranteeStructure.kind.desc(),  # circle before chain
        GuaranteeStructure.total_amount.desc(),
        GuaranteeStructure.id,
    )


def structures(
    session: Session,
    *,
    kind: str | None = None,
    member: str | None = None,
    page: int = 1,
    size: int = 20,
) -> tuple[list[GuaranteeStructure], int, GraphAnalysis | None]:
    """One page of ``structures_statement``, the total, and the latest analysis."""
    stmt = structures_statement(session, kind=kind, member=member)
    rows, total = paginate(session, stmt, page=page, size=size)
    return rows, total, latest_analysis(session)


def structures_of(
    session: Session, *, code: str, kind: str | None = None
) -> list[GuaranteeStructure]:
    """The latest analysis's circles and chains ``code`` is a member of."""
    return list(session.scalars(structures_statement(session, kind=kind, member=code)))


def member_names(session: Session, rows: Sequence[GuaranteeStructure]) -> dict[str, str]:
    """Names of every member of these structures (registry names)."""
    codes = sorted({c for row in rows for c in row.members})
    known = registry_service.get_many_by_code(session, credit_codes=codes)
    return {c: e.name for c, e in known.items()}


def structures_out(session: Session, rows: Sequence[GuaranteeStructure]) -> list[StructureOut]:
    """Circles and chains as shown, their members named (one registry lookup for them all)."""
    names = member_names(session, rows)
    return [structure_out(row, names=names) for row in rows]


def start_analysis(session: Session, *, options: AnalysisIn, actor: str | None) -> jobs.Job:
    """Record a region analysis as a job, queued once the caller commits."""
    job = jobs.create(session, kind=JOB_KIND, params=options.model_dump(), actor=actor)
    queue.enqueue_after_commit(session, ANALYSE_TASK, job.id)
    return job


# ------------------------------------------------------------------------ who sees what

# The categories an association view is made of: who represents and owns an enterprise,
# where it is, and whom it guarantees.
ASSOCIATION_CATEGORIES = ("registration", "shareholder", "guarantee")


def viewer_for(decision: Decision, principal: Principal) -> Viewer | None:
    """How much of an enterprise's associations an access decision lets ``principal`` see:
    None unless it grants every association category; the operator on its duty sees
    everything; the enterprise itself and a letter's holder see people masked and only the
    amounts of guarantees they are party to."""
    if not decision.allowed or any(c not in decision.grants for c in ASSOCIATION_CATEGORIES):
        return None
    if decision.basis == BASIS_OPERATOR:
        return OPERATOR_VIEW
    own = principal.credit_code if principal.organization_kind == OrgKind.ENTERPRISE else None
    raw_people: set[str] = set()
    public_people: set[str] = set()
    for kind, (category, field) in PERSON_SOURCES.items():
        view = decision.grants[category].view.fields.get(field)
        if view is not None and view.view == RAW:
            raw_people.add(kind)
            if view.grade == privacy.PUBLIC:
                public_people.add(kind)
    return Viewer(
        sees_everything=False,
        credit_code=own,
        subject=decision.subject,
        raw_people=frozenset(raw_people),
        public_people=frozenset(public_people),
    )


# Kinds of shared value the anti-fraud rules look at (``risk``).
HOLDER_KINDS = (links.REPRESENTATIVE, links.ADDRESS, links.PHONE)


def key_holders(session: Session, *, codes: Sequence[str]) -> dict[str, dict[str, set[str]]]:
    """For each enterprise of ``codes``, each kind of value it shares with others (legal
    representative in its county, address, phone) → every enterprise holding the same
    value, itself included, as the records say now (the index with pending changes folded
    in). A value held by one enterprise alone is left out."""
    subjects = index.load_links(session, codes)
    wanted: dict[str, list[tuple[str, str]]] = {
        code: [key for key in subject.shared_values() if key[0] in HOLDER_KINDS]
        for code, subject in subjects.items()
    }
    keys = {key for held in wanted.values() for key in held}
    if not keys:
        return {}
    members = index.members(session, keys, index.pending(session))
    found: dict[str, dict[str, set[str]]] = {}
    for code, held in wanted.items():
        for key in held:
            holders = set(members.get(key, set())) | {code}
            if len(holders) > 1:
                found.setdefault(code, {})[key[0]] = holders
    return found
