"""On PostgreSQL: a letter's use is counted by one conditional update as the transaction
commits, so two banks' queries racing for a letter's last use get one answer each, reports
on one letter never wait for each other while they are built, and the whole trail
verifies."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World, build_world, events, grant
from xinyidai.consent import service as consent_service
from xinyidai.core import db as core_db
from xinyidai.core.errors import RefusedAtCommit
from xinyidai.iam import service as iam_service
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.verify import verify_ledger
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(pg_url: str) -> Iterator[tuple[Session, World]]:
    session = core_db.new_session()
    try:
        registry_service.create(
            session, data=EnterpriseIn(credit_code=ENTERPRISE_CODE, name="南宁示范科技有限公司")
        )
        iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        session.commit()
        yield session, build_world(session)
    finally:
        session.close()


def test_two_queries_racing_for_the_last_use_get_one_allow_and_one_refusal(
    pg_world: tuple[Session, World],
) -> None:
    session, world = pg_world
    letter = grant(session, world, grantee_scope="any_institution", grantee_id=None, max_queries=1)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def query(username: str) -> None:
        own = core_db.new_session()
        try:
            principal = world.principal(own, username)
            start.wait()
            decision = consent_service.decide(
                own,
                actor=principal,
                subject=ENTERPRISE_CODE,
                categories=["tax_payment"],
                letter_id=letter.public_id,
            )
            start.wait()  # both decided before either commits: the race is at commit
            try:
                core_db.commit(own)
            except RefusedAtCommit as refusal:
                outcomes.append(refusal.code)
            else:
                outcomes.append(decision.reason or decision.outcome)
        finally:
            own.close()

    threads = [threading.Thread(target=query, args=(name,)) for name in ("bank", "bank2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["allow", "letter_used_up"]
    session.refresh(letter)
    assert (letter.queries_used, letter.state) == (1, "used_up")
    assert sorted(e.outcome for e in events(session)) == ["allow", "deny"]


def test_reports_on_one_letter_do_not_wait_for_each_other(
    pg_world: tuple[Session, World],
) -> None:
    """One bank's report is still being built (its transaction open, its letter use
    claimed) while another report on the same letter is decided and committed: the second
    takes no lock the first holds (a lock wait would fail on ``lock_timeout``), and both
    uses are counted."""
    session, world = pg_world
    letter = grant(session, world)
    first = core_db.new_session()
    second = core_db.new_session()
    try:
        for own in (first, second):
            own.execute(text("SET lock_timeout = '2s'"))
        bank = world.principal(first, "bank")
        building = consent_service.decide(first, actor=bank, subject=ENTERPRISE_CODE)
        assert building.allowed
        consent_service.credit_report(first, building, actor=bank)  # still open
        other = consent_service.decide(
            second, actor=world.principal(second, "bank"), subject=ENTERPRISE_CODE
        )
        consent_service.credit_report(second, other, actor=world.principal(second, "bank"))
        core_db.commit(second)
        core_db.commit(first)
    finally:
        first.close()
        second.close()
    session.refresh(letter)
    assert letter.queries_used == 2
    assert [e.outcome for e in events(session)] == ["allow", "allow"]


def test_the_trail_verifies_on_postgres(pg_world: tuple[Session, World]) -> None:
    session, world = pg_world
    keys.create_key()
    letter = grant(session, world)
    bank = world.principal(session, "bank")
    consent_service.decide(session, actor=bank, subject=ENTERPRISE_CODE)
    consent_service.revoke(
        session, principal=world.principal(session, "enterprise"), letter=letter, reason=None
    )
    consent_service.decide(session, actor=bank, subject=ENTERPRISE_CODE, letter_id=letter.public_id)
    session.commit()
    ledger_service.integrate(session)
    ledger_service.publish_checkpoint(session)
    session.commit()
    report = verify_ledger(session)
    assert report.ok, report.problems
    assert report.sources["audit.access"] == 2
    assert report.sources["consent.letter"] == 2
