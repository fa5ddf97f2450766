"""The figures risk sharing and subject rights add to the statistics, against their rows:
compensation paid is every party's part of every payout, subsidies paid are net of
clawbacks, objections answered on time follow the rights service's rule, and every stored
row is what the two sources recompute."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.market.conftest import principal_of
from xinyidai.core import clock
from xinyidai.rights.models import Objection, Repair, RepairState
from xinyidai.rights.service import demo as rights_demo
from xinyidai.sharing.models import Movement, MovementKind
from xinyidai.sharing.service import demo as sharing_demo
from xinyidai.stats.models import Dimension
from xinyidai.stats.service import refresh
from xinyidai.stats.sources import SOURCES, rights, sharing


@pytest.fixture
def both(session: Session, lending: list[str]) -> None:
    """The demo's risk sharing (claims paid and recovering) and its objections and repairs."""
    assert sharing_demo.ensure_demo_sharing(session).created
    session.commit()
    rights_demo.ensure_demo_rights(
        session,
        enterprise=principal_of(session, "enterprise"),
        department=principal_of(session, "provider-tax"),
        operator=principal_of(session, "operator"),
    )
    session.commit()


def _totals(session: Session, names: tuple[str, ...]) -> dict[str, Decimal]:
    """Each figure summed over every day, for the whole region."""
    totals: Counter[str] = Counter()
    for (figure, dimension, _key, _day), value in refresh.stored(
        session, names, None, None
    ).items():
        if dimension == Dimension.ALL:
            totals[figure] += value
    return {name: Decimal(totals.get(name, 0)) for name in names}


def test_money_paid_is_the_movements(session: Session, both: None) -> None:
    refresh.rebuild(session)
    movements = list(session.scalars(select(Movement)))
    paid = [
        m.amount
        for m in movements
        if m.claim_id is not None and m.kind in (MovementKind.SHARE, MovementKind.POOL_PAYOUT)
    ]
    subsidy = sum((m.amount for m in movements if m.kind == MovementKind.SUBSIDY), Decimal(0))
    clawed = sum((m.amount for m in movements if m.kind == MovementKind.CLAWBACK), Decimal(0))
    claims = {
        m.claim_id
        for m in movements
        if m.claim_id is not None
        and m.kind
        in (
            MovementKind.SHARE,
            MovementKind.POOL_PAYOUT,
        )
    }
    assert paid, "the demo pays a claim"
    totals = _totals(session, sharing.SOURCE.stored)
    assert totals["compensation_paid"] == sum(paid, Decimal(0))
    assert totals["claims_paid"] == len(claims)
    assert totals["subsidies_paid"] == subsidy - clawed


def test_objections_and_repairs_are_the_rows(session: Session, both: None) -> None:
    refresh.rebuild(session)
    objections = list(session.scalars(select(Objection)))
    answered = [o for o in objections if o.answered_at is not None]
    on_time = [o for o in answered if clock.to_local(o.answered_at).date() <= o.due_on]
    approved = session.scalars(select(Repair).where(Repair.state == RepairState.APPROVED)).all()
    assert objections
    assert answered
    totals = _totals(session, rights.SOURCE.stored)
    assert totals["objections_received"] == len(objections)
    assert totals["objections_answered"] == len(answered)
    assert totals["objections_on_time"] == len(on_time)
    assert totals["repairs_approved"] == len(approved)


def test_every_stored_row_is_what_the_two_sources_recompute(session: Session, both: None) -> None:
    refresh.rebuild(session)
    for source in SOURCES:
        if source.name in ("sharing", "rights"):
            assert refresh.stored(session, source.stored, None, None) == refresh.recompute(
                session, source, None, None
            )
