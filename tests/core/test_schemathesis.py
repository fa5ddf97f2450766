"""The whole OpenAPI document under schemathesis, a CI-sized run: every operation, as the
operator, a department, an enterprise and a bank, a few generated cases each (cases the
schema allows and cases it forbids), against the real ASGI app. No answer is a 5xx, and
every answer is one the document describes (status, content type, headers, body); a case
the schema forbids is refused with a 4xx.

Each operation and role starts from a copy of one small node made once per module: the
demo accounts over the demo enterprise, a few of its tax records, the ledger's keys. A
fresh token for the role's demo account goes with every case, so a case that revoked its
token or changed the password spoils none after it. ``bench/drills.py schemathesis`` is the
fuller run, over a demo region, with figures.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode

from tests.accounts import ENTERPRISE_CODE
from tests.openapi_contract import ROLES, checks, fresh_token
from xinyidai import observability
from xinyidai.app import create_app
from xinyidai.core import db as core_db

EXAMPLES = 4  # per operation, role and generation mode: the drill runs more


def _use(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XYD_DATABASE_URL", f"sqlite:///{folder / 'xyd.db'}")
    monkeypatch.setenv("XYD_DATA_DIR", str(folder))
    core_db.reset_engines()


@pytest.fixture(scope="module")
def node_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small node, made once: demo accounts, the demo enterprise's tax records, the
    ledger's keys (in its data folder)."""
    from xinyidai.iam import service as iam_service
    from xinyidai.ingest import service as ingest_service
    from xinyidai.ledger import keys
    from xinyidai.registry import service as registry_service
    from xinyidai.registry.schemas import EnterpriseIn

    folder = tmp_path_factory.mktemp("fuzz-node")
    shutil.copyfile(sqlite_template, folder / "xyd.db")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use(folder, monkeypatch)
        keys.create_key()
        with core_db.session_scope() as session:
            registry_service.create(
                session,
                data=EnterpriseIn(
                    credit_code=ENTERPRISE_CODE,
                    name="南宁示范科技有限公司",
                    region_code="450100",
                    registered_capital="12345678.50",
                ),
            )
            iam_service.ensure_demo_accounts(session, enterprise_code=ENTERPRISE_CODE)
        with core_db.session_scope() as session:
            rows = [
                {
                    "credit_code": ENTERPRISE_CODE,
                    "enterprise_name": "南宁示范科技有限公司",
                    "tax_item": "增值税",
                    "period_start": f"2025-{month:02d}-01",
                    "tax_paid": f"{1000 + month}.00",
                    "region_code": "450103",
                }
                for month in range(1, 4)
            ]
            ingest_service.push_rows(
                session, rows=rows, category="tax_payment", provider="tax", actor="test"
            )
        core_db.get_engine().dispose()
        core_db.reset_engines()
    return folder


class Node:
    """A copy of the small node, and fresh tokens for its demo accounts."""

    def token(self, username: str) -> str:
        return fresh_token(username)


# The app whose document is driven, made at import (it reads no database until a request);
# each test points it at its own copy of the node.
APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture
def node(node_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Node]:
    """A copy of the small node for one operation and role."""
    folder = tmp_path / "node"
    shutil.copytree(node_template, folder)
    _use(folder, monkeypatch)
    observability.beat()  # a queue worker runs beside the node: /readyz answers ready
    yield Node()
    core_db.get_engine().dispose()
    core_db.reset_engines()


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Any, node: Node, role: str) -> None:
    headers = {"Authorization": f"Bearer {node.token(role)}"}
    response = case.call(headers=headers)  # the ASGI app in process: what it raises fails
    case.validate_response(response, checks=checks(), headers=headers)
