"""The profile page in a real browser: the enterprise opens its credit profile from the menu,
sees its rating trend and its association graph drawn by ECharts, and downloads the PDF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import ENTERPRISE_CODE
from tests.graph.records import guarantee, list_as_dishonest, register
from tests.worlds import register_demo_enterprise
from xinyidai.catalog import service as catalog_service
from xinyidai.core import clock
from xinyidai.core import db as core_db
from xinyidai.scoring import service as rating_service

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture(scope="module")
def region(server: str) -> str:
    """The demo enterprise guaranteeing a dishonest debtor, rated twice (a trend)."""
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
        register_demo_enterprise(session, phone=None)
        neighbour = register(session, 2, region="450100", representative="黄海")
        guarantee(session, ENTERPRISE_CODE, neighbour)
        list_as_dishonest(session, neighbour)
        rating_service.rate_one(
            session, credit_code=ENTERPRISE_CODE, on=clock.today() - timedelta(days=90)
        )
        rating_service.rate_one(session, credit_code=ENTERPRISE_CODE)
    return server


def test_the_enterprise_reads_its_profile_and_downloads_the_report(page: Page, region: str) -> None:
    server = region
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("enterprise")
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")

    page.get_by_test_id("nav").get_by_role("link", name="信用画像").click()
    expect(page).to_have_url(re.compile(rf"/profile/{ENTERPRISE_CODE}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("南宁示范科技有限公司")
    expect(page.get_by_test_id("rating-grade")).to_be_visible()
    trend = page.get_by_test_id("rating-trend")
    expect(trend).to_have_attribute("data-rendered", "true")
    expect(trend.locator("svg")).to_have_count(1)
    graph = page.get_by_test_id("association-graph")
    expect(graph).to_have_attribute("data-rendered", "true")
    expect(graph).to_have_attribute("data-nodes", "2")
    expect(page.get_by_test_id("linked").locator("li.bad")).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_test_id("pdf-link").click()
    saved = download.value
    assert saved.suggested_filename.startswith("XYD-")
    assert saved.suggested_filename.endswith(".pdf")
    with open(saved.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert errors == []
