"""Every page of every role's menu at a phone's width (390 px) and a laptop's (1,366 px),
over a demo region with a long enterprise name: nothing runs out of its card, no page
scrolls sideways (a wide table scrolls inside its card), and a screenshot of each page is
kept to look at (the folder is printed on failure)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.servers import serving
from xinyidai.core import db as core_db

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

ROLES = ("enterprise", "bank", "operator", "provider-tax", "auditor")
WIDTHS = (390, 1366)
LONG_NAME = "宁夏回族自治区银川经济技术开发区安乐宁国际贸易与供应链管理集团股份有限公司"
# Finds what runs out of its box: the page wider than the window, an element past its card's
# edge, or text wider than the element holding it (outside a box that scrolls).
CHECK = (Path(__file__).parent / "layout_check.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small demo node (market, letters, risk), its enterprise renamed to a long name."""
    from xinyidai import demo
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn

    data_dir = tmp_path_factory.mktemp("layout")
    saved = {key: os.environ.get(key) for key in ("XYD_DATABASE_URL", "XYD_DATA_DIR")}
    os.environ["XYD_DATABASE_URL"] = f"sqlite:///{data_dir / 'xyd.db'}"
    os.environ["XYD_DATA_DIR"] = str(data_dir)
    core_db.reset_engines()
    result = demo.run(enterprises=60, seed=7, report=lambda _message: None)
    with core_db.session_scope() as session:
        registry_service.upsert(
            session, data=EnterpriseIn(credit_code=result.enterprise_code, name=LONG_NAME)
        )
    from xinyidai.app import create_app

    try:
        with serving(create_app(), start_within=30) as base:
            yield base
    finally:
        core_db.get_engine().dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        core_db.reset_engines()


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screens")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", ROLES)
def test_every_page_of_the_menu_fits_the_screen(
    browser: Browser, server: str, screens: Path, username: str, width: int
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    try:
        page.goto(f"{server}/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill("demo-password")
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(f"{server}/dashboard")
        links: list[str] = page.eval_on_selector_all(
            '[data-testid="nav"] a', "links => links.map(a => a.getAttribute('href'))"
        )
        assert len(links) >= 5
        found: dict[str, Any] = {}
        for href in dict.fromkeys(["/dashboard", *links]):
            page.goto(f"{server}{href}")
            page.wait_for_load_state("networkidle")
            name = href.strip("/").replace("/", "_") or "home"
            page.screenshot(path=screens / f"{username}-{width}-{name}.png", full_page=True)
            problems = page.evaluate(CHECK)["problems"]
            if problems:
                found[href] = problems
        assert not found, f"pages that do not fit {width} px (screenshots in {screens}): {found}"
    finally:
        context.close()
