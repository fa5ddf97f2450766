"""On PostgreSQL: an alert is raised once however many scans run, at once or one after
the other, and each raised alert has its history and its webhook delivery."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.accounts import ENTERPRISE_CODE
from tests.conftest import XydEnv
from tests.consent.world import push
from tests.market.conftest import principal_of
from xinyidai.core import clock, queue
from xinyidai.core import db as core_db
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import Transition
from xinyidai.iam import service as iam_service
from xinyidai.market.models import Loan, LoanState, WebhookDelivery
from xinyidai.market.service import webhooks
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn
from xinyidai.risk.models import Alert
from xinyidai.risk.service import alerts, watch

pytestmark = pytest.mark.postgres


def test_concurrent_scans_raise_each_alert_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_OUTBOUND_ALLOW_LOOPBACK="true")
    monkeypatch.setattr(queue, "enqueue", lambda *args, **kwargs: None)
    session = core_db.new_session()
    try:
        registry_service.create(
            session,
            data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司"),
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        bank = principal_of(session, "bank")
        webhooks.register(session, principal=bank, url="http://127.0.0.1:9/in")
        start = clock.now() - timedelta(days=10)
        loan = Loan(
            public_id=new_id("loan"),
            contract_number="XYD-PG-1",
            application_id=new_id("app"),
            product_id="prd_pg",
            product_type="credit",
            institution_id=bank.organization_public_id,
            institution_name=bank.organization_name,
            credit_code=ENTERPRISE_CODE,
            enterprise_name="南宁示范科技有限公司",
            region_code="450103",
            principal=Decimal("100000.00"),
            rate=Decimal("4.0000"),
            term_months=6,
            repayment_method="equal_principal",
            start_on=start.date(),
            maturity_on=(start + timedelta(days=180)).date(),
            balance=Decimal("100000.00"),
            interest_paid=Decimal("0.00"),
            state=LoanState.CURRENT,
            state_changed_at=start,
            state_changed_by="test",
            created_at=start,
            updated_at=start,
        )
        session.add(loan)
        session.flush()
        watch.refresh_loan(session, loan=loan)
        for n in range(3):
            push(
                session,
                "credit",
                "admin_penalty",
                [
                    {"credit_code": ENTERPRISE_CODE, "enterprise_name": "南宁示范科技有限公司"}
                    | {
                        "decision_number": f"罚{n}",
                        "fine_amount": "1000",
                        "decided_on": clock.today().isoformat(),
                        "region_code": "450103",
                    }
                ],
            )
        session.commit()
    finally:
        session.close()

    raised: list[int] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            with core_db.session_scope() as own:
                raised.append(len(alerts.scan(own, codes=[ENTERPRISE_CODE]).raised))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    scan()
    assert sum(raised) == 3
    with core_db.session_scope() as check:
        assert check.scalar(select(func.count()).select_from(Alert)) == 3
        assert (
            check.scalar(
                select(func.count())
                .select_from(Transition)
                .where(Transition.subject_kind == alerts.KIND)
            )
            == 3
        )
        assert (
            check.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.event_type == "alert.raised")
            )
            == 3
        )
