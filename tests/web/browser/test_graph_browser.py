"""The association pages in a real browser: the operator runs a region analysis, finds the
demo enterprise's guarantee circle and opens its association graph, drawn by ECharts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import ENTERPRISE_CODE
from tests.graph.records import register
from tests.worlds import demo_enterprise_in_a_circle
from xinyidai.catalog import service as catalog_service
from xinyidai.core import db as core_db

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture(scope="module")
def region(server: str) -> str:
    """The demo enterprise in a guarantee circle with a dishonest debtor, and a neighbour."""
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
        demo_enterprise_in_a_circle(session)
        c = register(session, 3, region="450100", representative="陆明")
        register(session, 4, region="450100", representative="黄海")
        assert c
    return server


def test_the_operator_finds_a_circle_and_sees_the_association_graph(
    page: Page, region: str
) -> None:
    server = region
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("operator")
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")

    page.get_by_test_id("nav").get_by_role("link", name="担保圈").click()
    expect(page).to_have_url(f"{server}/graph/circles")
    page.get_by_test_id("run-analysis").click()
    expect(page.get_by_test_id("flash")).to_be_visible()
    expect(page.locator('[data-count="circles"]')).to_have_text("1")
    page.get_by_role("link", name="南宁示范科技有限公司").first.click()
    expect(page).to_have_url(re.compile(rf"/graph/enterprises/{ENTERPRISE_CODE}$"))

    graph = page.get_by_test_id("association-graph")
    expect(graph).to_have_attribute("data-rendered", "true")
    expect(graph).to_have_attribute("data-nodes", "4")
    expect(graph.locator("svg")).to_have_count(1)
    expect(page.get_by_test_id("association-legend").locator("[data-kind]")).to_have_count(2)
    expect(page.get_by_test_id("circles").locator("ol.circle")).to_have_count(1)
    assert errors == []
