"""Webhooks in a real browser, in Chinese: the bank's endpoint inside the platform's network
is refused next to the address field; a public one is registered and its secret shown once,
gone when the page is read again; a rotation shows the new secret once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fake_dns import FakeDNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


def test_an_endpoint_is_refused_then_registered_and_its_secret_shown_once(
    page: Page, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns = FakeDNS(monkeypatch)
    dns.answers["hooks.bank.example"] = ["93.184.215.14"]
    page.context.clear_cookies()
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("bank")
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")
    page.get_by_test_id("nav").get_by_role("link", name="Webhook 推送").click()
    expect(page).to_have_url(f"{server}/market/webhooks")

    form = page.get_by_test_id("webhook-form")
    form.get_by_label("地址（https://…）").fill("http://169.254.169.254/latest/meta-data/")
    form.get_by_role("button", name="添加接收端点").click()
    expect(page.locator('[data-error-for="url"]')).to_contain_text("链路本地地址")

    form.get_by_label("地址（https://…）").fill("https://hooks.bank.example/xyd")
    form.get_by_role("button", name="添加接收端点").click()
    secret = page.get_by_test_id("new-secret")
    expect(secret).to_contain_text("whsec_")
    first = secret.inner_text()
    expect(page.get_by_test_id("webhook-endpoints")).to_contain_text("hooks.bank.example")

    page.goto(f"{server}/market/webhooks")
    expect(page.get_by_test_id("new-secret")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(first)

    page.get_by_role("button", name="轮换密钥").click()
    rotated = page.get_by_test_id("new-secret")
    expect(rotated).to_contain_text("whsec_")
    assert rotated.inner_text() != first
