"""A compensation claim in a real browser, in Chinese: the guarantor opens the claims
queue, starts the review and endorses the claim; the operator approves and pays it and sees
the 4:3:2:1 split."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import DEMO_PASSWORD, ENTERPRISE_CODE
from tests.risk.loans import make_loan
from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.market.models import LoanState
from xinyidai.sharing.schemas import PartyIn, PoolIn, SchemeIn
from xinyidai.sharing.service import claims, enrolment, pools, schemes
from xinyidai.supervision.service import demo as supervision_demo

pytestmark = [
    pytest.mark.browser,
    # pytest-playwright's own base_url fixture trips a pytest deprecation; not ours to fix.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture(scope="module")
def claim_server(server: str) -> tuple[str, str]:
    """A guarantor, a 4:3:2:1 scheme and its pool, and the bank's claim for a defaulted loan."""
    with core_db.session_scope() as session:
        org = iam_service.create_organization(
            session,
            kind="institution",
            name="广西融资担保有限公司",
            actor="test",
            state="active",
            institution_type="guarantor",
            licence_number="G0000H000000002",
        )
        # fit to read: the confidentiality agreement signed, an assessment passed
        supervision_demo.certify(session, org)
        iam_service.create_user(
            session,
            organization=org,
            username="guarantor1",
            display_name="guarantor1",
            password=DEMO_PASSWORD,
            actor="test",
            role="admin",
        )
        operator = consent_service.console_principal(session, name="test")
        bank = iam_service.principal_for_user(
            iam_service.get_user_or_raise(session, username="bank"), via="token"
        )
        pool = pools.create(
            session, principal=operator, data=PoolIn(region_code="450000", name="广西资金池")
        )
        pools.top_up(
            session,
            principal=operator,
            pool_id=pool.public_id,
            amount=Decimal("1000000.00"),
            note=None,
        )
        scheme = schemes.create(
            session,
            principal=operator,
            data=SchemeIn(
                name="政银担 4:3:2:1",
                region_code="450000",
                product_types=["credit"],
                parties=[
                    PartyIn(role="guarantor", name="政府性融资担保机构", share=Decimal(40)),
                    PartyIn(role="reguarantor", name="省级再担保机构", share=Decimal(30)),
                    PartyIn(role="bank", name="合作银行", share=Decimal(20)),
                    PartyIn(role="treasury", name="市县政府", share=Decimal(10), pool_pays=True),
                ],
                guarantor_id=org.public_id,
                valid_from=date(2020, 1, 1),
            ),
        )
        schemes.move(
            session,
            principal=operator,
            scheme_id=scheme.public_id,
            transition="activate",
            reason=None,
        )
        start = clock.today() - timedelta(days=120)
        loan = make_loan(
            session,
            institution_id=bank.organization_public_id,
            credit_code=ENTERPRISE_CODE,
            start_on=start,
            paid_late_days={1: None, 2: None, 3: None},
            state=LoanState.DEFAULTED,
        )
        enrolment.enrol(session, loan=loan, scheme=scheme, actor="test")
        claim, _ = claims.file(session, principal=bank, loan_id=loan.public_id)
        claim_id = claim.public_id
    return server, claim_id


def _sign_in(page: Page, server: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")


def _step(page: Page, label: str) -> None:
    page.get_by_label("操作").select_option(label=label)
    page.get_by_role("button", name="登记").click()


def test_a_claim_is_reviewed_endorsed_approved_and_paid(
    page: Page, claim_server: tuple[str, str]
) -> None:
    server, claim_id = claim_server
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    nav = page.get_by_test_id("nav")

    _sign_in(page, server, "guarantor1")
    nav.get_by_role("link", name="风险分担").click()
    page.get_by_role("link", name=claim_id).click()
    expect(page.get_by_test_id("claim-state")).to_have_text("已提交")
    _step(page, "开始审核")
    expect(page.get_by_test_id("claim-state")).to_have_text("审查中")
    _step(page, "出具同意意见（担保机构）")
    expect(page.get_by_test_id("claim-facts")).to_contain_text("担保机构已同意")

    _sign_in(page, server, "operator")
    page.goto(f"{server}/sharing/claims/{claim_id}")
    _step(page, "批准")
    expect(page.get_by_test_id("claim-state")).to_have_text("已批准")
    _step(page, "代偿支付")
    expect(page.get_by_test_id("claim-state")).to_have_text("已代偿")
    shares = page.get_by_test_id("shares")
    expect(shares.locator("tr[data-role]")).to_have_count(4)
    expect(shares).to_contain_text("资金池承担")
    assert errors == []
