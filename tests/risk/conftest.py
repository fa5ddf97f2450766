"""Fixtures of the early-warning tests: the consent world (demo bank, a second bank, two
enterprises with records) and a small loan book across both banks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import World, grant
from tests.risk.loans import make_loan, months_ago
from xinyidai.core import clock
from xinyidai.market.models import LoanState
from xinyidai.scoring import service as scoring_service


@dataclass
class Book:
    world: World
    troubled: str  # the demo enterprise at the bank: late, and overdue now
    clean: str  # the other enterprise at the bank: paid on time, no letter
    elsewhere: str  # the demo enterprise at the second bank
    repaid: str  # a repaid loan at the bank: no warning


@pytest.fixture
def book(session: Session, world: World) -> Book:
    troubled = make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=ENTERPRISE_CODE,
        start_on=months_ago(5),
        paid_late_days={1: 12, 2: 40, 4: None},
    )
    clean = make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=OTHER_CODE,
        start_on=months_ago(4),
        principal="300000.00",
    )
    elsewhere = make_loan(
        session,
        institution_id=world.other_bank_id,
        credit_code=ENTERPRISE_CODE,
        start_on=months_ago(2),
        principal="80000.00",
    )
    repaid = make_loan(
        session,
        institution_id=world.bank_id,
        credit_code=OTHER_CODE,
        start_on=months_ago(14),
        state=LoanState.REPAID,
    )
    session.commit()
    return Book(world, troubled.public_id, clean.public_id, elsewhere.public_id, repaid.public_id)


@pytest.fixture
def monitoring_letter(session: Session, world: World) -> str:
    """The demo enterprise lets the demo bank monitor it after lending: a letter for
    post-loan monitoring over every category its rating is computed from."""
    letter = grant(
        session,
        world,
        categories=scoring_service.rated_categories(),
        levels=["public", "restricted", "confidential", "personal"],
        purpose="post_loan_monitoring",
        valid_until=clock.now() + timedelta(days=90),
    )
    return letter.public_id
