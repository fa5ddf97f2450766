"""The demo's joint-modelling story: two threshold answers and one alignment for the demo
bank, each through its letter; made once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World, events
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.joint.models import Alignment, ThresholdAnswer
from xinyidai.joint.service.demo import ensure_demo_joint


def _principal(session: Session, username: str) -> Principal:
    user = iam_service.get_user_or_raise(session, username=username)
    return iam_service.principal_for_user(user, via="token")


def test_the_demo_has_threshold_answers_and_an_alignment(session: Session, world: World) -> None:
    story = ensure_demo_joint(
        session, enterprise=_principal(session, "enterprise"), bank=_principal(session, "bank")
    )
    session.commit()
    assert (story.created, story.answers, story.matched) == (True, 2, 1)
    answers = session.scalars(select(ThresholdAnswer)).all()
    assert sorted(a.question for a in answers) == ["no_arrears", "tax_paid_last_year"]
    assert [(e.outcome, e.basis, e.purpose) for e in events(session)] == [
        ("allow", "letter", "verification")
    ] * 2
    [aligned] = session.scalars(select(Alignment)).all()
    assert (aligned.sent, aligned.offered, aligned.codes) == (4, 1, [ENTERPRISE_CODE])
    again = ensure_demo_joint(
        session, enterprise=_principal(session, "enterprise"), bank=_principal(session, "bank")
    )
    assert not again.created
    assert len(session.scalars(select(Alignment)).all()) == 1
