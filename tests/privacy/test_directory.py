"""One rule per field: the public registry directory, the records, the credit report and the
profile show a registration fact by the same grading, whoever reads it; anonymous reads of
the directory are rate-limited (429 with ``Retry-After``) and logged to the application
log, not the ledger.

Replays the attack: the anonymous directory showed a legal representative's name in clear
while a bank holding a full letter got it masked, and paged through every enterprise
with no limit and no log."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, token_for
from tests.conftest import XydEnv
from tests.consent.world import LEGAL_REPRESENTATIVE, PHONE, World, count, grant
from xinyidai.audit.models import AccessEvent
from xinyidai.core.ratelimit import RateLimits
from xinyidai.core.settings import PrivacySettings, Settings
from xinyidai.iam.service import DemoAccount
from xinyidai.ledger.models import LedgerEntry
from xinyidai.privacy import service as privacy

MASKED = "李**"
CATEGORIES = ["registration", "shareholder", "tax_payment", "tax_rating"]


def _directory(client: TestClient, **headers: str) -> dict[str, Any]:
    listed = client.get(
        "/api/v1/registry/enterprises", params={"q": ENTERPRISE_CODE}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    one = client.get(f"/api/v1/registry/enterprises/{ENTERPRISE_CODE}", headers=headers)
    assert one.status_code == 200, one.text
    assert one.json() == item
    return dict(item)


def _views(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """The legal representative's name in every view of a signed-in reader."""
    report = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/report", headers=headers).json()
    records = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"category": "registration"},
        headers=headers,
    ).json()
    profile = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile", headers=headers).json()
    [section] = [s for s in report["sections"] if s["category"] == "registration"]
    return {
        "directory": _directory(client, **headers)["legal_representative"],
        "report": section["records"][0]["data"]["legal_representative"],
        "records": records[0]["records"][0]["data"]["legal_representative"],
        "profile": profile["identity"]["legal_representative"],
        "phone": section["records"][0]["data"]["phone"],
    }


def test_every_view_shows_the_legal_representative_by_the_same_rule(
    client: TestClient, world: World, session: Session
) -> None:
    grant(session, world, categories=CATEGORIES, levels=["restricted", "confidential"])
    anonymous = _directory(client)
    assert anonymous["legal_representative"] == LEGAL_REPRESENTATIVE  # published (公示)
    assert anonymous["name"] == "南宁示范科技有限公司"
    bank = {"Authorization": f"Bearer {token_for(client, 'bank')}"}
    platform = {"Authorization": f"Bearer {token_for(client, 'platform')}"}
    for reader in (bank, platform):  # a full letter, and no letter at all
        views = _views(client, reader)
        assert {k: v for k, v in views.items() if k != "phone"} == dict.fromkeys(
            ("directory", "report", "records", "profile"), LEGAL_REPRESENTATIVE
        )
        assert views["phone"] == "138****5678"  # personal information stays masked
    assert PHONE not in json.dumps(anonymous, ensure_ascii=False)


def test_the_rule_is_one_place_change_it_and_every_view_follows(
    client: TestClient,
    world: World,
    session: Session,
    tmp_path: Path,
    xyd_env: XydEnv,
) -> None:
    document = json.loads(privacy.DEFAULT_RULES.read_text(encoding="utf-8"))
    document["published"] = []
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(document), encoding="utf-8")
    xyd_env(XYD_PRIVACY_RULES_FILE=str(rules))
    grant(session, world, categories=CATEGORIES, levels=["restricted", "confidential"])
    assert _directory(client)["legal_representative"] == MASKED
    bank = {"Authorization": f"Bearer {token_for(client, 'bank')}"}
    views = _views(client, bank)
    assert {k: v for k, v in views.items() if k != "phone"} == dict.fromkeys(
        ("directory", "report", "records", "profile"), MASKED
    )
    enterprise = {"Authorization": f"Bearer {token_for(client, 'enterprise')}"}
    own = _views(client, enterprise)
    assert own["report"] == own["profile"] == LEGAL_REPRESENTATIVE  # its own: raw
    assert own["directory"] == MASKED  # the directory is the public's view


@pytest.fixture
def limited(db_url: str, demo: list[DemoAccount], xyd_env: XydEnv) -> Iterator[TestClient]:
    """The app with a directory limit of 3 reads a minute anonymously, 5 signed in."""
    xyd_env(XYD_DIRECTORY_RATE_LIMIT="3/minute", XYD_DIRECTORY_RATE_LIMIT_SIGNED_IN="5/minute")
    from xinyidai.app import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def test_anonymous_listing_past_the_limit_gets_429(limited: TestClient) -> None:
    for page in (1, 2):
        assert limited.get(f"/api/v1/registry/enterprises?page={page}").status_code == 200
    assert limited.get(f"/api/v1/registry/enterprises/{ENTERPRISE_CODE}").status_code == 200
    refused = limited.get("/api/v1/registry/enterprises?page=3&lang=en")
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"]["code"] == "too_many_requests"
    assert body["error"]["message"].startswith("too many requests; try again in")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert limited.get(f"/api/v1/registry/enterprises/{ENTERPRISE_CODE}").status_code == 429
    # a signed-in caller is counted on its own, with a higher limit
    bank = {"Authorization": f"Bearer {token_for(limited, 'bank')}"}
    statuses = [
        limited.get("/api/v1/registry/enterprises", headers=bank).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_anonymous_paging_is_logged_without_a_ledger_leaf(
    client: TestClient, session: Session, demo: list[DemoAccount], caplog: pytest.LogCaptureFixture
) -> None:
    leaves = count(session, LedgerEntry)
    searched = "黄海"  # what a caller searched for may be a person's name
    with caplog.at_level(logging.INFO, logger="xinyidai.directory"):
        for page in (1, 2, 3):
            url = f"/api/v1/registry/enterprises?page={page}&size=1&q={searched}"
            assert client.get(url).status_code == 200
        client.get(f"/api/v1/registry/enterprises/{ENTERPRISE_CODE}")
    lines = [r.getMessage() for r in caplog.records if r.name == "xinyidai.directory"]
    assert [line.split(":")[0] for line in lines] == ["anonymous directory page"] * 3 + [
        "anonymous directory lookup"
    ]
    assert "page=3 size=1" in lines[2]
    # No address, search text or code in the log: their pseudonyms, alike for one caller.
    for value in (searched, "testclient", ENTERPRISE_CODE):
        assert not any(value in line for line in lines)
    callers = {line.split("address=")[1].split()[0] for line in lines}
    assert len(callers) == 1
    assert callers.pop().startswith("p:")
    assert count(session, LedgerEntry) == leaves
    assert count(session, AccessEvent) == 0


def test_a_limit_must_be_a_rate() -> None:
    with pytest.raises(ValueError, match="is not a rate limit"):
        PrivacySettings(directory_rate_limit="lots")


REDIS_URL = os.environ.get("XYD_TEST_REDIS_URL", "")


@pytest.mark.skipif(
    not REDIS_URL and os.environ.get("CI") != "true", reason="XYD_TEST_REDIS_URL not set"
)
def test_the_counters_live_in_redis_when_it_is_configured() -> None:
    """Two web processes of one node share their counters through Redis."""
    node = f"test-{uuid.uuid4().hex}"
    first = RateLimits(storage_url=REDIS_URL, node=node)
    second = RateLimits(storage_url=REDIS_URL, node=node)
    assert first.hit("2/minute", "registry.directory", "address:10.0.0.1") is None
    assert second.hit("2/minute", "registry.directory", "address:10.0.0.1") is None
    wait = first.hit("2/minute", "registry.directory", "address:10.0.0.1")
    assert wait is not None
    assert 1 <= wait <= 60
    assert second.hit("2/minute", "registry.directory", "address:10.0.0.2") is None


def test_the_app_uses_redis_counters_when_xyd_redis_url_is_set() -> None:
    settings = Settings(redis_url="redis://127.0.0.1:6379/15")
    assert RateLimits.from_settings(settings).storage_url == "redis://127.0.0.1:6379/15"
    assert RateLimits.from_settings(Settings()).storage_url == "memory://"
