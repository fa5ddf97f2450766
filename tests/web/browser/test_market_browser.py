"""The financing marketplace in a real browser, in Chinese: the bank drafts and publishes a
credit product, the enterprise finds it in the product supermarket and applies (authorizing
the bank to read its data), the bank accepts and approves the application, and the
enterprise sees it approved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import seed_records
from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.core import db as core_db
from xinyidai.iam import service as iam_service
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseIn

pytestmark = [
    pytest.mark.browser,
    # pytest-playwright's own base_url fixture trips a pytest deprecation; not ours to fix.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

PRODUCT = "桂信贷·纯信用"


@pytest.fixture(scope="module")
def market_server(server: str) -> str:
    """The demo enterprise registered in Nanning, with the credit commitment signed and
    records in seven categories, so it can apply and the bank can read its report."""
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
        consent_service.load_default_text(session)
        registry_service.upsert(
            session,
            data=EnterpriseIn(
                credit_code=ENTERPRISE_CODE,
                name="南宁示范科技有限公司",
                region_code="450103",
                industry_code="3911",
                established_on="2015-03-01",  # type: ignore[arg-type]
            ),
        )
        enterprise = iam_service.principal_for_user(
            iam_service.get_user_or_raise(session, username="enterprise"), via="portal"
        )
        consent_service.sign(
            session,
            principal=enterprise,
            version=consent_service.latest_text_or_raise(session).version,
        )
        seed_records(session)
    return server


def _sign_in(page: Page, server: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")


def test_a_product_is_published_applied_for_and_approved(page: Page, market_server: str) -> None:
    server = market_server
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    nav = page.get_by_test_id("nav")

    # The bank drafts a pure credit loan for Guangxi and publishes it.
    _sign_in(page, server, "bank")
    nav.get_by_role("link", name="我们的产品").click()
    expect(page).to_have_url(f"{server}/market/my-products")
    form = page.get_by_test_id("product-form")
    form.get_by_label("名称").fill(PRODUCT)
    form.get_by_label("产品类型").select_option(label="纯信用贷")
    form.get_by_label("最低金额（元）").fill("100000")
    form.get_by_label("最高金额（元）").fill("2000000")
    form.get_by_label("最短期限（月）").fill("6")
    form.get_by_label("最长期限（月）").fill("24")
    form.get_by_label("最低年利率（%）").fill("3.6")
    form.get_by_label("最高年利率（%）").fill("5.5")
    form.get_by_label("等额本息").check()
    form.get_by_label("等额本金").check()
    form.get_by_label("快贷专区").check()
    form.get_by_label("服务地区（代码，逗号分隔）").fill("450000")
    form.get_by_role("button", name="保存为草稿").click()
    expect(page).to_have_url(re.compile(r"/market/products/[^/]+$"))
    expect(page.locator("h1")).to_have_text(PRODUCT)
    facts = page.get_by_test_id("product-facts")
    expect(facts).to_contain_text("草稿")
    expect(page.locator('[data-action="pause"]')).to_have_count(0)  # only what a draft can do
    expect(page.get_by_test_id("rules-form").get_by_label("自动审批")).not_to_be_checked()
    page.locator('[data-action="publish"]').click()
    expect(facts).to_contain_text("已发布")
    expect(page.locator('[data-action="publish"]')).to_have_count(0)
    expect(page.locator('[data-action="pause"]')).to_have_count(1)
    product_path = page.url.removeprefix(server)

    # The enterprise finds it in the supermarket and applies, authorizing the bank.
    page.get_by_test_id("logout").click()
    _sign_in(page, server, "enterprise")
    nav.get_by_role("link", name="金融产品超市").click()
    expect(page).to_have_url(f"{server}/market")
    row = page.get_by_test_id("products").locator("tbody tr", has_text=PRODUCT)
    expect(row).to_contain_text("演示商业银行")
    expect(row).to_contain_text("快贷专区")
    row.get_by_role("link", name=PRODUCT).click()
    expect(page).to_have_url(f"{server}{product_path}")
    apply = page.get_by_test_id("apply-form")
    apply.get_by_label("金额（元）").fill("300000")
    apply.get_by_label("期限（月）").fill("12")
    apply.get_by_label("还款方式").select_option(label="等额本金")
    apply.get_by_label("用途").fill("支付货款")
    expect(apply).to_contain_text("本企业授权 演示商业银行 为本次申请查询本企业信用报告。")
    apply.get_by_test_id("authorize").check()
    apply.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/market/applications/[^/]+$"))
    application_path = page.url.removeprefix(server)
    expect(page.get_by_test_id("application-state")).to_have_text("已提交")
    expect(page.get_by_test_id("application-facts")).to_contain_text(PRODUCT)

    nav.get_by_role("link", name="融资申请").click()
    expect(page).to_have_url(f"{server}/market/applications")
    row = page.get_by_test_id("applications").locator("tbody tr", has_text=PRODUCT)
    expect(row).to_contain_text("演示商业银行")
    expect(row).to_contain_text("已提交")

    # The bank reads the report under the application's letter, accepts and approves.
    page.get_by_test_id("logout").click()
    _sign_in(page, server, "bank")
    nav.get_by_role("link", name="融资申请").click()
    row = page.get_by_test_id("applications").locator("tbody tr", has_text=PRODUCT)
    expect(row).to_contain_text("南宁示范科技有限公司")
    row.get_by_role("link").click()
    expect(page).to_have_url(f"{server}{application_path}")
    page.get_by_test_id("report-link").click()
    expect(page.locator('[data-category="registration"]').first).to_be_visible()
    page.go_back()
    expect(page).to_have_url(f"{server}{application_path}")
    page.get_by_role("button", name="受理审查").click()
    expect(page.get_by_test_id("application-state")).to_have_text("审查中")
    decision = page.get_by_test_id("decision-form")
    decision.get_by_label("审核决定").select_option(label="批准")
    decision.get_by_label("金额（元）").fill("280000")
    decision.get_by_label("年利率（%）").fill("3.9")
    decision.get_by_label("期限（月）").fill("12")
    decision.get_by_role("button", name="作出决定").click()
    expect(page.get_by_test_id("application-state")).to_have_text("已批准")
    expect(page.get_by_test_id("disburse-form")).to_be_visible()

    # The enterprise sees the application approved, with the terms decided.
    page.get_by_test_id("logout").click()
    _sign_in(page, server, "enterprise")
    nav.get_by_role("link", name="融资申请").click()
    row = page.get_by_test_id("applications").locator("tbody tr", has_text=PRODUCT)
    expect(row).to_contain_text("已批准")
    row.get_by_role("link").click()
    expect(page.get_by_test_id("application-state")).to_have_text("已批准")
    expect(page.get_by_test_id("application-facts")).to_contain_text("3.9")
    assert errors == []
