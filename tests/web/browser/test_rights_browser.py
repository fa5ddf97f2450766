"""Subject rights in a real browser, one role after the other: the enterprise files an
objection from its profile's record link with a proof file, the tax department accepts,
verifies and corrects it from its inbox, the operator sees the deadline and the figures."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core import db as core_db

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

PDF = b"%PDF-1.4\n%proof\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def region(server: str) -> str:
    """The demo enterprise's records in seven categories (a tax grade among them)."""
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
        seed_records(session)
    return server


def _signed_in(browser: Browser, server: str, username: str, **context: Any) -> Page:
    page = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context).new_page()
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")
    return page


def test_enterprise_files_department_corrects_operator_sees_the_deadline(
    browser: Browser, region: str
) -> None:
    server = region
    enterprise = _signed_in(browser, server, "enterprise")
    enterprise.get_by_test_id("nav").get_by_role("link", name="信用画像").click()
    expect(enterprise).to_have_url(re.compile(rf"/profile/{ENTERPRISE_CODE}$"))
    enterprise.locator('[data-section="tax_rating"]').get_by_test_id("object-link").click()
    expect(enterprise.get_by_test_id("objection-form")).to_be_visible()
    enterprise.get_by_label("异议对象").select_option("field")
    enterprise.get_by_label("字段").fill("grade")
    enterprise.get_by_label("错误之处").fill("纳税信用等级有误")
    enterprise.get_by_label("请求更正的内容").fill("应为B级")
    enterprise.get_by_test_id("objection-form").locator('input[type="file"]').set_input_files(
        files=[{"name": "复评通知.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    enterprise.get_by_role("button", name="提交异议").click()
    expect(enterprise.get_by_test_id("objection-state")).to_have_text("已提交")
    objection_url = enterprise.url
    enterprise.goto(f"{server}/profile/{ENTERPRISE_CODE}")
    expect(enterprise.get_by_test_id("objection-mark")).to_have_text("异议处理中")

    department = _signed_in(browser, server, "provider-tax")
    department.get_by_test_id("nav").get_by_role("link", name="异议处理").click()
    department.get_by_test_id("objections").get_by_role("link").first.click()
    expect(department).to_have_url(objection_url)
    department.get_by_role("button", name="受理", exact=True).click()
    department.get_by_role("button", name="开始核查").click()
    correction = department.get_by_test_id("move-correct")
    correction.get_by_label("更正后的值").fill("B")
    correction.get_by_role("button", name="更正记录").click()
    expect(department.get_by_test_id("objection-state")).to_have_text("已更正")

    operator = _signed_in(browser, server, "operator")
    operator.get_by_test_id("nav").get_by_role("link", name="异议与修复").click()
    expect(operator.get_by_test_id("figure-on-time")).to_have_text("100.0%")
    due = operator.get_by_test_id("objections").locator("tbody tr").first
    expect(due).to_contain_text(str(clock.today().year))
    operator.get_by_test_id("nav").get_by_role("link", name="工作台").click()
    expect(operator.get_by_test_id("rights-answered")).to_have_text("1 / 1")
