"""The registry's HTTP routes through the real app."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from xinyidai.registry import service

from .helpers import code_for, enterprise_in


def test_credit_code_check_explains_a_valid_code(client: TestClient) -> None:
    response = client.get("/api/v1/credit-codes/91350100m000100y43")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["code"] == "91350100M000100Y43"
    assert body["authority"] == "市场监管"
    assert body["organization_type"] == "企业"
    assert body["region_code"] == "350100"
    assert body["region_name"] == "福州市"
    assert body["reason"] is None


def test_credit_code_check_explains_an_invalid_code(client: TestClient) -> None:
    response = client.get("/api/v1/credit-codes/91350100M000100Y44")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["reason"] == "校验码错误：应为 3，实际为 4"
    assert body["region_code"] is None
    english = {"Accept-Language": "en"}
    short = client.get("/api/v1/credit-codes/9135", headers=english).json()
    assert short["valid"] is False
    assert short["reason"] == "credit code must have 18 characters, got 4"


def test_regions_without_parent_are_the_provinces(client: TestClient) -> None:
    body = client.get("/api/v1/regions", params={"size": 200}).json()["items"]
    assert len(body) == 34
    assert {item["level"] for item in body} == {"province"}
    assert {"code": "640000", "name": "宁夏回族自治区", "level": "province", "parent": None} in body


def test_regions_of_a_parent_are_its_children(client: TestClient) -> None:
    body = client.get("/api/v1/regions", params={"parent": "640000"}).json()["items"]
    assert [(item["code"], item["name"]) for item in body] == [
        ("640100", "银川市"),
        ("640200", "石嘴山市"),
        ("640300", "吴忠市"),
        ("640400", "固原市"),
        ("640500", "中卫市"),
    ]
    counties = client.get("/api/v1/regions", params={"parent": "640100"}).json()["items"]
    assert [item["code"] for item in counties] == [
        "640104",
        "640105",
        "640106",
        "640121",
        "640122",
        "640181",
    ]
    assert client.get("/api/v1/regions", params={"parent": "999999"}).json()["items"] == []


def test_industries_without_parent_are_the_sections(client: TestClient) -> None:
    body = client.get("/api/v1/industries", params={"size": 200}).json()["items"]
    assert [item["code"] for item in body] == list("ABCDEFGHIJKLMNOPQRST")
    divisions = client.get("/api/v1/industries", params={"parent": "F"}).json()["items"]
    assert [(item["code"], item["name"]) for item in divisions] == [
        ("51", "批发业"),
        ("52", "零售业"),
    ]
    groups = client.get("/api/v1/industries", params={"parent": "521"}).json()["items"]
    assert [item["code"] for item in groups] == ["5211", "5212", "5213", "5219"]


def test_enterprise_list_has_the_paging_shape(client: TestClient, session: Session) -> None:
    for serial in range(1, 6):
        service.create(session, data=enterprise_in("640104", serial, f"兴庆第{serial}商贸有限公司"))
    service.create(session, data=enterprise_in("110105", 9, "北京朝阳科技有限公司"))
    session.commit()

    body = client.get("/api/v1/registry/enterprises", params={"page": 2, "size": 2}).json()
    assert set(body) == {"items", "total", "page", "size"}
    assert (body["total"], body["page"], body["size"]) == (6, 2, 2)
    assert len(body["items"]) == 2

    ningxia = client.get("/api/v1/registry/enterprises", params={"region": "640000"}).json()
    assert ningxia["total"] == 5
    assert {item["region_code"] for item in ningxia["items"]} == {"640104"}
    named = client.get("/api/v1/registry/enterprises", params={"q": "朝阳"}).json()
    assert [item["name"] for item in named["items"]] == ["北京朝阳科技有限公司"]
    assert named["items"][0]["kind"] == "enterprise"


def test_enterprise_by_code(client: TestClient, session: Session) -> None:
    created = service.create(session, data=enterprise_in("640104", 1, "宁夏兴庆商贸有限公司"))
    session.commit()
    response = client.get(f"/api/v1/registry/enterprises/{created.credit_code.lower()}")
    assert response.status_code == 200
    assert response.json()["name"] == "宁夏兴庆商贸有限公司"


def test_unknown_enterprise_is_404_in_the_error_shape(client: TestClient) -> None:
    unknown = code_for("640104", 42)
    response = client.get(f"/api/v1/registry/enterprises/{unknown}")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field", "request_id"}
    assert body["error"]["code"] == "not_found"
    assert body["error"]["field"] == "credit_code"
    assert unknown in body["error"]["message"]


def test_malformed_enterprise_code_is_422_naming_the_field(client: TestClient) -> None:
    response = client.get("/api/v1/registry/enterprises/91350100M000100Y44")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"] == "credit_code"
    assert "3" in error["message"]


def test_the_operators_old_search_path_is_the_directory(
    client: TestClient, session: Session, auth: Callable[[str], dict[str, str]]
) -> None:
    for serial in range(1, 4):
        service.create(session, data=enterprise_in("640104", serial, f"兴庆第{serial}商贸有限公司"))
    session.commit()
    params = {"q": "兴庆", "size": 2, "page": 2}
    directory = client.get("/api/v1/registry/enterprises", params=params, headers=auth("operator"))
    old = client.get("/api/v1/enterprises", params=params, headers=auth("operator"))
    assert old.status_code == 200, old.text
    assert old.json() == directory.json()
    assert (old.json()["total"], len(old.json()["items"])) == (3, 1)
    assert client.get("/api/v1/enterprises", headers=auth("bank")).status_code == 403
    assert client.get("/api/v1/enterprises").status_code == 401
    assert client.get("/openapi.json").json()["paths"]["/api/v1/enterprises"]["get"]["deprecated"]
