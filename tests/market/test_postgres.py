"""On PostgreSQL: deciding locks the application, so of two decisions at once one wins and
the other finds it decided (409); the whole story also runs on the production database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from tests.market.conftest import application_payload, principal_of, product_payload
from xinyidai.consent import service as consent_service
from xinyidai.core import db as core_db
from xinyidai.core.errors import Conflict
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.core.transitions import Transition
from xinyidai.iam import service as iam_service
from xinyidai.market import service
from xinyidai.market.schemas import ApplicationIn, ProductIn
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_application(pg_url: str) -> Iterator[tuple[Session, str]]:
    """A submitted application of the demo enterprise to the demo bank's product."""
    session = core_db.new_session()
    try:
        registry_service.create(
            session,
            data=EnterpriseIn(
                credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司", region_code="450103"
            ),
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        enterprise = principal_of(session, "enterprise")
        consent_service.sign(
            session,
            principal=enterprise,
            version=consent_service.latest_text_or_raise(session).version,
        )
        seed_records(session)
        bank = principal_of(session, "bank")
        product = service.products.create(
            session, principal=bank, data=ProductIn.model_validate(product_payload())
        )
        service.products.move(session, principal=bank, product=product, transition="publish")
        application, _ = service.applications.submit(
            session,
            principal=enterprise,
            data=ApplicationIn.model_validate(application_payload(product.public_id)),
        )
        session.commit()
        yield session, application.public_id
    finally:
        session.close()


def test_two_decisions_at_once_one_wins_the_other_conflicts(
    pg_application: tuple[Session, str],
) -> None:
    session, application_id = pg_application
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(outcome: str) -> None:
        own = core_db.new_session()
        try:
            principal = principal_of(own, "bank")
            start.wait()
            service.applications.decide(
                own,
                principal=principal,
                application_id=application_id,
                outcome=outcome,
                rate=Decimal("4.0000"),
                reason="人工审批",
            )
            time.sleep(0.3)  # hold the lock while the other decision waits for it
            own.commit()
            outcomes[outcome] = "won"
        except Conflict as error:
            own.rollback()
            outcomes[outcome] = f"conflict:{error.field}"
        finally:
            own.close()

    threads = [threading.Thread(target=decide, args=(o,)) for o in ("approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["conflict:state", "won"]
    session.expire_all()
    application = service.applications.get_or_raise(session, application_id=application_id)
    winner = next(o for o, result in outcomes.items() if result == "won")
    assert application.state == {"approve": "approved", "reject": "rejected"}[winner]
    decided = session.scalar(
        select(func.count())
        .select_from(Transition)
        .where(
            Transition.subject_id == application_id,
            Transition.transition.in_(("approve", "reject")),
        )
    )
    assert decided == 1


def test_the_supermarket_and_the_lists_filter_in_postgresql(
    pg_application: tuple[Session, str],
) -> None:
    session, application_id = pg_application
    bank = principal_of(session, "bank")

    def shelve(name: str, **changes: object) -> str:
        data = ProductIn.model_validate(product_payload(name=name, **changes))
        product = service.products.create(session, principal=bank, data=data)
        service.products.move(session, principal=bank, product=product, transition="publish")
        return product.public_id

    shelve("南宁城区贷", regions=["450100"], zones=["green", "rural"])
    shelve("全国通", regions=[], zones=[])
    shelve("宁夏贷", regions=["640000"], zones=["green"])
    session.commit()

    def names(**filters: object) -> list[str]:
        stmt = service.products.supermarket_statement(session, **filters)  # type: ignore[arg-type]
        found = page_of(session, stmt, PageRequest(size=50), lambda p: p.name)
        assert found.total == len(found.items)
        return sorted(found.items)

    assert names(region="450103") == sorted(["南宁城区贷", "全国通", "信易贷·纯信用贷"])
    assert names(region="640104") == sorted(["全国通", "宁夏贷"])
    assert names(zone="green") == sorted(["南宁城区贷", "宁夏贷"])
    assert names(zone="green", region="450103") == ["南宁城区贷"]
    assert names(q="%") == []
    assert names(q="城区") == ["南宁城区贷"]
    assert names(amount=Decimal("50000")) == []

    enterprise = principal_of(session, "enterprise")
    for principal in (bank, enterprise, principal_of(session, "operator")):
        listed = page_of(session, service.visibility.applications(principal), PageRequest())
        assert [a.public_id for a in listed.items] == [application_id]
        assert page_of(session, service.visibility.loans(principal), PageRequest()).total == 0
