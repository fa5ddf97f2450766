"""What a client generator and an intranet expect of the API's description."""

from __future__ import annotations

import re
from collections import Counter

from fastapi.testclient import TestClient

OPERATION_ID = re.compile(r"[a-z][A-Za-z0-9]*")


def test_operation_ids_are_short_unique_and_camel_case(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ids = [
        operation["operationId"]
        for path in spec["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(ids) > 100
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert [i for i in ids if not OPERATION_ID.fullmatch(i)] == []
    assert spec["paths"]["/api/v1/products"]["get"]["operationId"] == "browseProducts"


def test_every_tag_used_is_described(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    described = {tag["name"]: tag.get("description") for tag in spec["tags"]}
    used = {
        tag
        for path in spec["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", [])
    }
    assert used <= set(described)
    assert all(described[tag] for tag in used)


def test_documentation_pages_load_only_local_assets(client: TestClient) -> None:
    for page, assets in (
        ("/docs", ("/static/vendor/swagger-ui-bundle.js", "/static/vendor/swagger-ui.css")),
        ("/redoc", ("/static/vendor/redoc.standalone.js",)),
    ):
        html = client.get(page).text
        for asset in assets:
            assert asset in html
            assert client.get(asset).status_code == 200, asset
        assert "cdn." not in html
        assert "fonts.googleapis" not in html
        assert not re.search(r"(src|href)=\"https?://", html)
