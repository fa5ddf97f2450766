"""The enterprise in a real browser: signs the credit commitment, grants the demo bank a
letter for its tax payments, and revokes it from the list; all in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.core import db as core_db

pytestmark = [
    pytest.mark.browser,
    # pytest-playwright's own base_url fixture trips a pytest deprecation; not ours to fix.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture(scope="module")
def consent_server(server: str) -> str:
    """The test server with the catalogue and the commitment text."""
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
        consent_service.load_default_text(session)
    return server


def test_the_enterprise_grants_and_revokes_a_letter(page: Page, consent_server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{consent_server}/login")
    page.get_by_label("用户名").fill("enterprise")
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{consent_server}/dashboard")

    page.get_by_test_id("nav").get_by_role("link", name="授权书").click()
    expect(page.get_by_test_id("sign-first")).to_be_visible()
    page.get_by_test_id("nav").get_by_role("link", name="信用承诺书").click()
    expect(page.get_by_test_id("commitment-text")).to_contain_text("本企业自愿注册")
    page.get_by_label("我已阅读本承诺书，并代表本企业签署").check()
    page.get_by_role("button", name="签署").click()
    expect(page.get_by_test_id("signed")).to_be_visible()

    page.get_by_test_id("nav").get_by_role("link", name="授权书").click()
    page.get_by_test_id("grant-link").click()
    page.locator("#f-grantee_id").select_option(label="演示商业银行 (金融机构)")
    page.get_by_label("纳税信息").check()
    page.get_by_test_id("letter-submit").click()
    expect(page.get_by_test_id("letter-terms")).to_contain_text("演示商业银行")
    expect(page.locator("h1 [data-state]")).to_have_attribute("data-state", "active")

    page.get_by_role("link", name="← 授权书").click()
    row = page.get_by_test_id("letter-table").locator("tbody tr").first
    expect(row).to_contain_text("演示商业银行")
    row.locator('[data-action="revoke"]').click()
    row = page.get_by_test_id("letter-table").locator("tbody tr").first
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "revoked")
    expect(row.locator("[data-state]")).to_have_text("已撤销")
    assert errors == []
