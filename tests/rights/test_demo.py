"""The demo's rights story: objections in several states (one overdue), one repair approved
and one waiting, made once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World
from xinyidai.iam import service as iam_service
from xinyidai.records import service as records_service
from xinyidai.rights.models import Objection, Repair
from xinyidai.rights.service import objections
from xinyidai.rights.service.demo import ensure_demo_rights


def _principal(session: Session, username: str):
    user = iam_service.get_user_or_raise(session, username=username)
    return iam_service.principal_for_user(user, via="token")


def test_the_demo_has_objections_and_repairs_in_several_states(
    session: Session, world: World
) -> None:
    story = ensure_demo_rights(
        session,
        enterprise=_principal(session, "enterprise"),
        department=_principal(session, "provider-tax"),
        operator=_principal(session, "operator"),
    )
    session.commit()
    assert story.created
    states = sorted(o.state for o in session.scalars(select(Objection)))
    assert states == ["closed", "declined", "submitted", "verifying"]
    assert len(objections.overdue(session)) == 1
    assert sorted(r.state for r in session.scalars(select(Repair))) == ["approved", "submitted"]
    figures = objections.figures(session)
    assert figures.overdue == 1
    assert figures.answered == 2
    penalties = records_service.records_of(
        session, subject_code=ENTERPRISE_CODE, categories=["admin_penalty"]
    )
    shown = {r.data["decision_number"] for r in penalties[0].records}
    assert "XYD-DEMO-罚〔2025〕7号" not in shown  # repaired
    assert "XYD-DEMO-罚〔2026〕2号" in shown
    again = ensure_demo_rights(
        session,
        enterprise=_principal(session, "enterprise"),
        department=_principal(session, "provider-tax"),
        operator=_principal(session, "operator"),
    )
    assert not again.created
