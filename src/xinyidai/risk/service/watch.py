"""The watch list: every live loan puts its borrower on its lender's watch list, and (with
``risk.watch_associates``) the borrower's associates at depth 1: guarantee partners,
corporate shareholders and holdings, enterprises with the same legal representative, and
the members of guarantee circles through the borrower (``graph.service.associations``).

Rows follow the loans: ``refresh_loan`` when a loan moves (disbursed: watched; repaid or
written off: dropped), ``refresh_all`` in the periodic sweep. A row keeps its ``since``
when it is refreshed, so an event is judged against when watching began.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.graph import service as graph_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import RUNNING_LOAN_STATES, Loan
from xinyidai.market.service import loans as loans_service
from xinyidai.risk.models import Watch, WatchRelation

log = logging.getLogger(__name__)

# The graph's link kinds that make an associate at depth 1, by the relation they give.
LINK_RELATIONS = {
    "guarantee": WatchRelation.GUARANTEE,
    "shareholding": WatchRelation.SHAREHOLDING,
    "representative": WatchRelation.REPRESENTATIVE,
}
# When an enterprise is linked several ways, the relation named first wins.
PRIORITY = (
    WatchRelation.BORROWER,
    WatchRelation.GUARANTEE,
    WatchRelation.CIRCLE,
    WatchRelation.SHAREHOLDING,
    WatchRelation.REPRESENTATIVE,
)


@dataclass(frozen=True)
class Watched:
    """One enterprise a loan watches, and why."""

    credit_code: str
    relation: WatchRelation
    name: str | None


def live(loan: Loan) -> bool:
    """A loan still being repaid or collected: its lender watches the borrower."""
    return loan.state in RUNNING_LOAN_STATES


def associates(session: Session, *, code: str) -> list[Watched]:
    """The borrower's associates at depth 1 that post-loan monitoring follows, and the
    members of guarantee circles through it. An enterprise the registry does not know has
    none (its links come from registered enterprises' records)."""
    try:
        found = graph_service.associations(session, code=code, depth=1)
    except NotFound:
        return []
    names = {node.code: node.name for node in found.nodes}
    best: dict[str, WatchRelation] = {}

    def keep(other: str, relation: WatchRelation) -> None:
        if other == code:
            return
        current = best.get(other)
        if current is None or PRIORITY.index(relation) < PRIORITY.index(current):
            best[other] = relation

    for edge in found.edges:
        relation = LINK_RELATIONS.get(edge.kind)
        if relation is None or code not in (edge.source, edge.target):
            continue
        keep(edge.target if edge.source == code else edge.source, relation)
    for circle in found.circles:
        for member, member_name in zip(
            circle.members, circle.names or [None] * len(circle.members), strict=False
        ):
            keep(member, WatchRelation.CIRCLE)
            if member_name and not names.get(member):
                names[member] = member_name
    return [Watched(c, best[c], names.get(c)) for c in sorted(best)]


def wanted_for(session: Session, *, loan: Loan) -> list[Watched]:
    """Whom a live loan watches: its borrower and, if so configured, the associates."""
    rows = [Watched(loan.credit_code, WatchRelation.BORROWER, loan.enterprise_name)]
    if get_settings().risk.watch_associates:
        rows += associates(session, code=loan.credit_code)
    return rows


def refresh_loan(session: Session, *, loan: Loan, at: datetime | None = None) -> list[Watch]:
    """Bring one loan's watch rows in line with it: none once it is no longer live;
    otherwise its borrower and associates, rows already there keeping their ``since``."""
    existing = {
        row.credit_code: row
        for row in session.scalars(select(Watch).where(Watch.loan_id == loan.public_id))
    }
    if not live(loan):
        if existing:
            session.execute(delete(Watch).where(Watch.loan_id == loan.public_id))
            session.flush()
        return []
    now = at or clock.now()
    wanted = wanted_for(session, loan=loan)
    kept: list[Watch] = []
    for item in wanted:
        row = existing.pop(item.credit_code, None)
        if row is None:
            row = Watch(
                loan_id=loan.public_id,
                institution_id=loan.institution_id,
                borrower_code=loan.credit_code,
                credit_code=item.credit_code,
                enterprise_name=item.name,
                relation=item.relation,
                # The borrower is watched from the loan's start; an associate from now.
                since=loan.created_at if item.relation == WatchRelation.BORROWER else now,
            )
            session.add(row)
        else:
            row.relation = item.relation
            row.enterprise_name = item.name or row.enterprise_name
        kept.append(row)
    for gone in existing.values():
        session.delete(gone)
    session.flush()
    return kept


def refresh_all(session: Session, *, associates_too: bool = True) -> int:
    """Refresh the live loans' rows and drop those of loans no longer live; how many rows
    the watch list holds after. ``associates_too=False`` (the frequent sweep) looks up the
    associates only of loans with no rows yet (a disbursement whose listener failed); the
    nightly refresh follows every loan's links as the records say now."""
    live_ids: set[str] = set()
    watched = set(session.scalars(select(Watch.loan_id).distinct()))
    for loan in session.scalars(loans_service.running_statement()):
        if associates_too or loan.public_id not in watched:
            refresh_loan(session, loan=loan)
        live_ids.add(loan.public_id)
    for loan_id in sorted(watched - live_ids):
        session.execute(delete(Watch).where(Watch.loan_id == loan_id))
    session.flush()
    return len(session.scalars(select(Watch.id)).all())


def watches_of(session: Session, *, codes: Iterable[str]) -> list[Watch]:
    """The watch rows on these enterprises (every loan watching them)."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    rows: list[Watch] = []
    for start in range(0, len(wanted), 500):
        rows += session.scalars(
            select(Watch)
            .where(Watch.credit_code.in_(wanted[start : start + 500]))
            .order_by(Watch.id)
        )
    return rows


def watched_among(session: Session, *, codes: Sequence[str]) -> list[str]:
    """Which of these enterprises some live loan watches (what a new record must concern to
    be worth a scan)."""
    wanted = sorted(set(codes))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.scalars(
                select(Watch.credit_code)
                .where(Watch.credit_code.in_(wanted[start : start + 500]))
                .distinct()
            )
        )
    return sorted(found)


def _institution(principal: Principal) -> str:
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only a lending institution has a watch list", field="institution")
    return principal.organization_public_id


def watchlist_statement(
    principal: Principal, *, relation: str | None = None, credit_code: str | None = None
) -> Select[Any]:
    """The institution's watch list (every enterprise its live loans watch), newest loan
    first; ``relation`` and ``credit_code`` narrow it."""
    stmt = select(Watch).where(Watch.institution_id == _institution(principal))
    if relation:
        if relation not in set(WatchRelation):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="relation",
                value=relation,
                allowed=", ".join(WatchRelation),
            )
        stmt = stmt.where(Watch.relation == relation)
    if credit_code:
        stmt = stmt.where(Watch.credit_code == credit_code.strip().upper())
    return stmt.order_by(Watch.id.desc())


def on_loan_moved(session: Session, loan: Loan, move: str) -> None:
    """A loan moved: its watch rows follow it (a failure is logged; the sweep repairs)."""
    try:
        with session.begin_nested():
            refresh_loan(session, loan=loan)
    except Exception:
        log.exception("could not refresh the watch list of loan %s", loan.public_id)
