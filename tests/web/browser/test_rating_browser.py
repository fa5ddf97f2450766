"""The ratings in a real browser: the operator looks up an enterprise's rating on a
phone-sized screen, reads why its score is what it is, and starts a full run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import ENTERPRISE_CODE
from xinyidai.catalog import service as catalog_service
from xinyidai.core import db as core_db

pytestmark = [
    pytest.mark.browser,
    # pytest-playwright's own base_url fixture trips a pytest deprecation; not ours to fix.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture(scope="module")
def catalogue(server: str) -> str:
    """The server, with the catalogue XYD ships in its database."""
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
    return server


def test_the_operator_reads_a_rating_and_starts_a_full_run(page: Page, catalogue: str) -> None:
    server = catalogue
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("operator")
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")

    page.get_by_test_id("nav").get_by_role("link", name="信用评价").click()
    expect(page).to_have_url(f"{server}/ratings")
    page.get_by_label("统一社会信用代码").fill(ENTERPRISE_CODE)
    page.get_by_role("button", name="查看评价").click()
    card = page.get_by_test_id("rating-card")
    expect(card).to_contain_text("南宁示范科技有限公司")
    expect(page.get_by_test_id("rating-grade")).to_have_text(
        re.compile(r"^(AAA|AA|A|BBB|BB|B|CCC|CC|C)$")
    )
    expect(card).to_contain_text("一年内违约概率")
    assert _overflow(page) <= 0

    page.get_by_test_id("start-run").click()
    expect(page.get_by_test_id("run-queued")).to_be_visible()
    expect(page.get_by_test_id("latest-run")).to_contain_text("评价企业数")
    expect(page.get_by_test_id("grade-table").locator("tbody tr")).to_have_count(9)
    assert _overflow(page) <= 0
    assert errors == [], errors


def _overflow(page: Page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )
