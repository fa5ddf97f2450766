"""The data pages in a real browser: a provider uploads a small CSV with one bad row on a
phone-sized screen, lands on the batch's result and sees the rejected row and why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import add_department
from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.catalog import service as catalog_service
from xinyidai.core import db as core_db

pytestmark = [
    pytest.mark.browser,
    # pytest-playwright's own base_url fixture trips a pytest deprecation; not ours to fix.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture(scope="module")
def catalogue(server: str) -> str:
    """The server, with the catalogue XYD ships (what ``xyd init`` loads) in its database,
    and a court department (the source of court enforcement, which the file carries)."""
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
        add_department(session, code="court", name="中级人民法院", username="provider-court")
    return server


def test_a_provider_uploads_a_csv_and_sees_the_rejected_row(
    page: Page, catalogue: str, tmp_path: Path
) -> None:
    server = catalogue
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    rows = [good_row(n) for n in range(1, 4)]
    rows[1][5] = "abc"  # the amount of the second row (line 3)
    feed = write(tmp_path / "enforcement", "csv", HEADERS, rows)

    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill("provider-court")
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{server}/dashboard")

    page.get_by_test_id("nav").get_by_role("link", name="数据上传").click()
    expect(page).to_have_url(f"{server}/data/upload")
    page.get_by_label("数据类别").select_option("court_enforcement")
    page.get_by_label("文件").set_input_files(feed)
    page.get_by_role("button", name="上传", exact=True).click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(server)}/data/batches/bat_[^/?]+$"))
    expect(page.get_by_test_id("batch-state")).to_have_text("完成")
    expect(page.locator('[data-count="accepted"]')).to_have_text("2")
    expect(page.locator('[data-count="rejected"]')).to_have_text("1")
    rejected = page.get_by_test_id("rejection-table").locator("tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first.locator("th")).to_have_text("3")
    expect(rejected.first).to_contain_text("执行标的")
    expect(rejected.first).to_contain_text("不是数字：abc")
    expect(page.get_by_test_id("download-csv")).to_be_visible()
    assert _overflow(page) <= 0
    batch_url = page.url

    page.get_by_test_id("nav").get_by_role("link", name="上传批次").click()
    expect(page).to_have_url(f"{server}/data/batches")
    expect(page.get_by_test_id("batch-table").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("batch-table").locator("tbody tr").first).to_contain_text("完成")
    assert _overflow(page) <= 0
    page.get_by_test_id("batch-table").locator("tbody tr a").first.click()
    expect(page).to_have_url(batch_url)
    assert errors == [], errors


def _overflow(page: Page) -> int:
    """How far the page is wider than the screen (0 when nothing sticks out)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )
