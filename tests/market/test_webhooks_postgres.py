"""On PostgreSQL: an attempt claims its delivery with one conditional update, so of two
workers that take the same delivery at once only one sends it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.conftest import XydEnv
from tests.market.conftest import need_payload, principal_of, product_payload
from xinyidai.core import db as core_db
from xinyidai.core import queue
from xinyidai.iam import service as iam_service
from xinyidai.market import service
from xinyidai.market.schemas import NeedIn, ProductIn
from xinyidai.market.service import webhooks
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

pytestmark = pytest.mark.postgres


@pytest.fixture
def pending_delivery(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, xyd_env: XydEnv
) -> Iterator[str]:
    """A need.matched delivery to the demo bank's endpoint, committed and not yet tried."""
    xyd_env(XYD_OUTBOUND_ALLOW_LOOPBACK="true")
    monkeypatch.setattr(queue, "enqueue", lambda name, delivery_id, at=None: None)
    session = core_db.new_session()
    try:
        registry_service.create(
            session,
            data=EnterpriseIn(
                credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司", region_code="450103"
            ),
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        bank = principal_of(session, "bank")
        product = service.products.create(
            session, principal=bank, data=ProductIn.model_validate(product_payload())
        )
        service.products.move(session, principal=bank, product=product, transition="publish")
        webhooks.register(session, principal=bank, url="http://127.0.0.1:9/in")
        need = service.matching.post_need(
            session,
            principal=principal_of(session, "enterprise"),
            data=NeedIn.model_validate(need_payload()),
        )
        [delivery_id] = webhooks.announce_need(session, need=need)
        session.commit()
        yield delivery_id
    finally:
        session.close()


def test_two_workers_claim_a_delivery_once(pending_delivery: str) -> None:
    first = core_db.new_session()
    claims: list[webhooks.Claim | None] = []
    try:
        taken = webhooks.claim(first, delivery_id=pending_delivery)
        assert taken is not None

        def second_worker() -> None:
            own: Session = core_db.new_session()
            try:
                claims.append(webhooks.claim(own, delivery_id=pending_delivery))
                own.commit()
            finally:
                own.close()

        worker = threading.Thread(target=second_worker)
        worker.start()  # its update waits on the first claim's row lock
        worker.join(timeout=0.5)
        first.commit()
        worker.join()
    finally:
        first.close()
    assert claims == [None]
    result = webhooks.send(taken)
    assert result.outcome is webhooks.Outcome.UNREACHABLE
    with core_db.session_scope() as session:
        delivery = webhooks.record(session, claimed=taken, result=result, draw=0.5)
        assert (delivery.state, delivery.attempts) == ("pending", 1)
