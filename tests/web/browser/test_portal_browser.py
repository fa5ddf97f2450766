"""The portal in a real browser: each demo role signs in, sees its menu, switches language,
signs out; the operator's chart draws; pages fit a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [
    pytest.mark.browser,
    # pytest-playwright's own base_url fixture trips a pytest deprecation; not ours to fix.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

MENUS = {
    "operator": [
        "工作台",
        "机构管理",
        "入驻申请",
        "用户管理",
        "上传批次",
        "数据质量",
        "信用评价",
        "企业信用画像",
        "信用目录",
        "账本",
        "担保圈",
        "分级分类与脱敏",
        "统计分析",
        "融资市场",
        "平台网络",
        "反欺诈",
        "金融领域失信名单",
        "违约预警",
        "异议与修复",
        "风险分担",
        "联合建模",
        "机构监管",
        "API 密钥",
        "密码",
    ],
    "provider-tax": [
        "工作台",
        "数据上传",
        "上传批次",
        "信用目录",
        "异议处理",
        "成员",
        "API 密钥",
        "密码",
    ],
    "provider-market": [
        "工作台",
        "数据上传",
        "上传批次",
        "信用目录",
        "异议处理",
        "成员",
        "API 密钥",
        "密码",
    ],
    "enterprise": [
        "工作台",
        "信用画像",
        "关联关系",
        "授权书",
        "查询记录",
        "信用承诺书",
        "金融产品超市",
        "融资需求",
        "融资申请",
        "贷款",
        "金融领域失信名单",
        "我的信用权益",
        "风险分担",
        "成员",
        "密码",
    ],
    "bank": [
        "工作台",
        "信用目录",
        "企业信用画像",
        "授权书",
        "我们的产品",
        "匹配的融资需求",
        "融资申请",
        "贷款台账",
        "贷后预警",
        "Webhook 推送",
        "反欺诈",
        "金融领域失信名单",
        "违约预警",
        "风险分担",
        "联合建模",
        "监管履职",
        "成员",
        "密码",
    ],
    "auditor": [
        "工作台",
        "账本",
        "信用目录",
        "查询日志",
        "异常查询提示",
        "分级分类与脱敏",
        "统计分析",
        "成员",
        "API 密钥",
        "密码",
    ],
}
ENGLISH_DASHBOARD = {
    "operator": "Credit center dashboard",
    "provider-tax": "Data provider dashboard",
    "provider-market": "Data provider dashboard",
    "enterprise": "Enterprise dashboard",
    "bank": "Financial institution dashboard",
    "auditor": "Auditor dashboard",
}


def _sign_in(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")


@pytest.mark.parametrize("username", list(MENUS))
def test_each_demo_role_signs_in_sees_its_menu_switches_language_and_signs_out(
    page: Page, server: str, username: str
) -> None:
    _sign_in(page, server, username)
    expect(page.get_by_test_id("nav").get_by_role("link")).to_have_text(MENUS[username])

    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("dashboard-title")).to_have_text(ENGLISH_DASHBOARD[username])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_test_id("logout").click()
    expect(page).to_have_url(f"{server}/")
    page.goto(f"{server}/dashboard")
    expect(page).to_have_url(f"{server}/login?next=/dashboard")


def test_a_wrong_password_is_shown_next_to_the_field(page: Page, server: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("bank")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator('[data-error-for="password"]')).to_have_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("bank")


def test_the_operator_chart_draws_on_a_phone_sized_screen(page: Page, server: str) -> None:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 375, "height": 740})
    _sign_in(page, server, "operator")
    chart = page.get_by_test_id("org-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(chart.locator("svg")).to_have_count(1)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert errors == [], errors
