"""The auditor in a real browser, at phone width: opens the ledger, checks one entry by its
leaf index, and sees the proof worked step by step to the signed root."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.ingest.tables import HEADERS, good_row, write
from xinyidai.catalog import service as catalog_service
from xinyidai.core import db as core_db
from xinyidai.ingest import service as ingest_service
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.models import LedgerEntry

pytestmark = [
    pytest.mark.browser,
    # pytest-playwright's own base_url fixture trips a pytest deprecation; not ours to fix.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


TREE: dict[str, int] = {}


@pytest.fixture(scope="module")
def ledger_server(server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test server with the catalogue, three court records and a signed checkpoint."""
    folder: Path = tmp_path_factory.mktemp("feeds")
    path = write(folder / "court", "csv", HEADERS, [good_row(n) for n in range(1, 4)])
    keys.create_key()
    with core_db.session_scope() as session:
        catalog_service.load_defaults(session)
    with core_db.session_scope() as session:
        ingest_service.ingest_file(
            session,
            feed=ingest_service.FeedFile(path, "court", "court_enforcement"),
            actor="test",
        )
    with core_db.session_scope() as session:
        ledger_service.integrate(session)
        ledger_service.publish_checkpoint(session)
    with core_db.session_scope() as session:
        # the three records, after the leaves the demo accounts left (their certification)
        TREE["size"] = session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.idx.is_not(None))
        )
    return server


def test_the_auditor_checks_an_entry_and_sees_it_matches(page: Page, ledger_server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{ledger_server}/login")
    page.get_by_label("用户名").fill("auditor")
    page.get_by_label("密码").fill("demo-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{ledger_server}/dashboard")

    page.get_by_test_id("nav").get_by_role("link", name="账本").click()
    expect(page).to_have_url(f"{ledger_server}/ledger")
    size = TREE["size"]
    assert size >= 3
    expect(page.get_by_test_id("tree-size")).to_have_text(str(size))
    expect(page.get_by_test_id("signed-note")).to_contain_text(f"/ledger\n{size}\n")

    by_index = page.get_by_test_id("check-index")
    by_index.get_by_label("叶子序号").fill("1")
    by_index.get_by_role("button", name="核验").click()

    verdict = page.get_by_test_id("proof-verdict")
    expect(verdict).to_have_attribute("data-result", "matches")
    expect(verdict).to_contain_text("计算所得根哈希与签名根哈希一致")
    expect(page.get_by_test_id("body-check")).to_have_attribute("data-result", "matches")
    expect(page.get_by_test_id("event-index")).to_have_text("1")
    expect(page.get_by_test_id("computed-root")).to_have_text(
        page.get_by_test_id("signed-root").inner_text()
    )
    # the leaf hash, then one sibling per level (leaf 1 sits in the tree's left part)
    expect(page.locator("ol.proof > li")).to_have_count(1 + math.ceil(math.log2(size)))
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert errors == [], errors
