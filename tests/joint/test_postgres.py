"""Threshold answers on PostgreSQL: two requests racing for the last answer of the window
are serialized by the advisory lock, so the limit holds (one answered, one refused)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import build_world, grant
from xinyidai.core import db as core_db
from xinyidai.core.errors import TooManyRequests
from xinyidai.iam import service as iam_service
from xinyidai.joint import service
from xinyidai.joint.models import ThresholdAnswer
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

pytestmark = pytest.mark.postgres


def test_racing_answers_cannot_both_pass_the_limit(
    pg_url: str, xyd_env: Callable[..., Any]
) -> None:
    xyd_env(XYD_JOINT_THRESHOLD_ANSWERS="1")
    session = core_db.new_session()
    try:
        registry_service.create(
            session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司")
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        session.commit()
        world = build_world(session)
        grant(session, world, purpose="verification")
        bank = world.principal(session, "bank")
    finally:
        session.close()
    ready = threading.Barrier(2)
    outcomes: list[str] = []

    def ask(threshold: int) -> None:
        own = core_db.new_session()
        try:
            ready.wait()
            service.answer(
                own,
                actor=bank,
                credit_code=ENTERPRISE_CODE,
                question="tax_paid_last_year",
                threshold=threshold,
            )
            own.commit()
            outcomes.append("answered")
        except TooManyRequests:
            own.rollback()
            outcomes.append("limited")
        finally:
            own.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["answered", "limited"]
    check = core_db.new_session()
    try:
        assert check.scalar(select(func.count()).select_from(ThresholdAnswer)) == 1
    finally:
        check.close()
