"""The portal through HTTP: sign-in and out, menus per role, forms, language, formatting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD, OTHER_CODE
from tests.conftest import XydEnv
from tests.web.conftest import csrf_of, sign_in
from xinyidai.core import clock
from xinyidai.core.i18n import set_locale
from xinyidai.iam import service
from xinyidai.iam.models import ApiKey, AuthSession, Organization, User
from xinyidai.supervision.service import demo as supervision_demo
from xinyidai.web.templating import local_time, yuan

Portal = Callable[[str], TestClient]


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_home_is_in_chinese_by_default_and_english_after_switching(client: TestClient) -> None:
    home = client.get("/")
    assert '<html lang="zh-CN">' in home.text
    assert "信用信息共享与中小微企业融资服务" in home.text
    switched = client.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    cookie = switched.headers["set-cookie"]
    assert "xyd_lang=en" in cookie
    assert "Max-Age=31536000" in cookie
    english = client.get("/")
    assert '<html lang="en">' in english.text
    assert "Credit information sharing and SME financing" in english.text


def test_language_switch_never_redirects_off_site(client: TestClient) -> None:
    response = client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_signing_in_sets_a_protected_session_cookie(client: TestClient, demo: object) -> None:
    response = sign_in(client, "operator")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/dashboard"  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"].lower()  # type: ignore[attr-defined]
    assert "xyd_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http in tests


def test_the_cookie_is_secure_when_configured(
    client: TestClient, demo: object, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_COOKIE_SECURE="true")
    response = sign_in(client, "operator")
    assert "secure" in response.headers["set-cookie"].lower()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("env", "scheme", "option", "secure"),
    [
        ("test", "http", "auto", False),
        ("test", "https", "auto", True),
        ("production", "http", "auto", True),  # TLS may end at a proxy in front
        ("production", "http", "false", False),
        ("dev", "http", "true", True),
    ],
)
def test_when_cookies_are_secure(
    xyd_env: XydEnv, env: str, scheme: str, option: str, secure: bool
) -> None:
    from starlette.requests import Request

    from xinyidai.web.auth import cookie_secure

    xyd_env(XYD_ENV=env, XYD_SECRET_KEY="a-real-secret-for-this-test", XYD_COOKIE_SECURE=option)
    scope = {"type": "http", "scheme": scheme, "server": ("xyd.test", 443), "path": "/"}
    request = Request({**scope, "headers": []})
    assert cookie_secure(request) is secure


def test_a_wrong_password_shows_the_error_by_the_field_and_keeps_the_username(
    client: TestClient, demo: object, session: Session
) -> None:
    response = sign_in(client, "operator", "wrong-password")
    assert response.status_code == 401  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert 'data-error-for="password"' in html
    assert "用户名或密码错误" in html
    assert 'value="operator"' in html
    assert "wrong-password" not in html
    assert _count(session, AuthSession) == 0


def test_the_sixth_attempt_waits_a_moment_and_is_told_how_long(
    client: TestClient, demo: object
) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(5):
            sign_in(client, "bank", "wrong-password")
        response = sign_in(client, "bank")
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert response.headers["Retry-After"] == "1"  # type: ignore[attr-defined]
    assert "登录失败次数过多，请 1 秒后再试" in response.text  # type: ignore[attr-defined]
    assert 'data-error-for="username"' in response.text  # type: ignore[attr-defined]
    with clock.frozen_at(start + timedelta(seconds=1)):
        assert sign_in(client, "bank").status_code == 303  # type: ignore[attr-defined]


def test_a_form_without_the_csrf_token_is_refused_with_a_clear_page(
    client: TestClient, demo: object, session: Session
) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "operator", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert "表单已失效" in response.text
    assert _count(session, AuthSession) == 0


def test_a_signed_in_form_needs_the_sessions_own_token(portal: Portal, session: Session) -> None:
    client = portal("provider-tax")
    response = client.post(
        "/account/api-keys",
        data={"name": "x", "scopes": "ingest:write", "csrf_token": "not-the-token"},
    )
    assert response.status_code == 403
    assert _count(session, ApiKey) == 0


def test_logout_ends_the_session_on_the_server(portal: Portal) -> None:
    client = portal("enterprise")
    cookie = client.cookies.get("xyd_session")
    assert client.get("/dashboard").status_code == 200
    page = client.get("/dashboard")
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("xyd_session", cookie or "")
    again = client.get("/dashboard", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login?next=")


MENUS = {
    "operator": [
        "/dashboard",
        "/admin/organizations",
        "/admin/applications",
        "/admin/users",
        "/data/batches",
        "/data/quality",
        "/ratings",
        "/profile",
        "/catalog",
        "/ledger",
        "/graph/circles",
        "/privacy",
        "/stats",
        "/market/overview",
        "/federation",
        "/risk/fraud",
        "/risk/blacklist",
        "/risk/warnings",
        "/rights",
        "/sharing",
        "/joint",
        "/supervision",
        "/account/api-keys",
        "/account/password",
    ],
    "provider-tax": [
        "/dashboard",
        "/data/upload",
        "/data/batches",
        "/catalog",
        "/rights",
        "/account/members",
        "/account/api-keys",
        "/account/password",
    ],
    "enterprise": [
        "/dashboard",
        "/profile/91450100MA5K00001E",
        "/graph/enterprises/91450100MA5K00001E",
        "/consent/letters",
        "/consent/access-log",
        "/consent/commitment",
        "/market",
        "/market/needs",
        "/market/applications",
        "/market/loans",
        "/risk/blacklist",
        "/rights",
        "/sharing",
        "/account/members",
        "/account/password",
    ],
    "bank": [
        "/dashboard",
        "/catalog",
        "/profile",
        "/consent/letters",
        "/market/my-products",
        "/market/incoming",
        "/market/applications",
        "/market/loans",
        "/risk/alerts",
        "/market/webhooks",
        "/risk/fraud",
        "/risk/blacklist",
        "/risk/warnings",
        "/sharing",
        "/joint",
        "/supervision",
        "/account/members",
        "/account/password",
    ],
    "auditor": [
        "/dashboard",
        "/ledger",
        "/catalog",
        "/audit/events",
        "/audit/flags",
        "/privacy",
        "/stats",
        "/account/members",
        "/account/api-keys",
        "/account/password",
    ],
}
HEADINGS = {
    "operator": "信用中心工作台",
    "provider-tax": "数据提供部门工作台",
    "enterprise": "企业工作台",
    "bank": "金融机构工作台",
    "auditor": "审计机构工作台",
}


@pytest.mark.parametrize("username", list(MENUS))
def test_each_role_gets_its_own_menu_and_dashboard(portal: Portal, username: str) -> None:
    import re

    html = portal(username).get("/dashboard").text
    assert re.findall(r'data-nav="([^"]+)"', html) == MENUS[username]
    assert HEADINGS[username] in html


def test_non_operators_cannot_open_admin_pages(portal: Portal) -> None:
    response = portal("bank").get("/admin/organizations")
    assert response.status_code == 403
    assert "您无权打开此页面" in response.text


def test_the_operator_dashboard_charts_organizations_by_kind_and_state(portal: Portal) -> None:
    import json
    import re

    html = portal("operator").get("/dashboard").text
    assert '<script src="/static/vendor/echarts.min.js">' in html
    data = json.loads(re.search(r'id="org-chart-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert data["categories"][0] == "信用中心（运营方）"
    active = data["names"].index("正常")
    assert sum(data["series"][active]) == 6
    assert data["series"][active][1] == 2  # two providers


def test_the_enterprise_dashboard_shows_capital_in_yuan(portal: Portal) -> None:
    html = portal("enterprise").get("/dashboard").text
    assert "¥12,345,678.50" in html
    assert "91450100MA5K00001E" in html


def test_money_and_times_are_formatted_for_china() -> None:
    set_locale("zh_CN")
    assert yuan(Decimal("1234567.5")) == "¥1,234,567.50"
    assert local_time(datetime(2026, 1, 1, 16, 30, tzinfo=UTC)) == "2026-01-02 00:30"
    assert local_time(None) == "—"


def test_enterprise_registration_errors_stay_by_the_field_and_nothing_is_stored(
    client: TestClient, demo: object, session: Session
) -> None:
    page = client.get("/register/enterprise")
    before = (_count(session, Organization), _count(session, User))
    bad_code = OTHER_CODE[:17] + ("0" if OTHER_CODE[17] != "0" else "1")
    response = client.post(
        "/register/enterprise",
        data={
            "csrf_token": csrf_of(page.text),
            "credit_code": bad_code,
            "enterprise_name": "柳州新材料有限公司",
            "contact_name": "王经理",
            "username": "liuzhou",
            "password": "a-good-password",
            "password_confirm": "a-good-password",
        },
    )
    assert response.status_code == 422
    assert 'data-error-for="credit_code"' in response.text
    assert "校验码错误" in response.text
    assert 'value="柳州新材料有限公司"' in response.text
    assert 'value="liuzhou"' in response.text
    assert (_count(session, Organization), _count(session, User)) == before


def test_enterprise_registration_in_english_shows_english_errors(
    client: TestClient, demo: object
) -> None:
    client.cookies.set("xyd_lang", "en")
    page = client.get("/register/enterprise")
    response = client.post(
        "/register/enterprise",
        data={
            "csrf_token": csrf_of(page.text),
            "credit_code": OTHER_CODE,
            "contact_name": "Wang",
            "username": "liuzhou",
            "password": "a-good-password",
            "password_confirm": "another-password",
        },
    )
    assert 'data-error-for="password_confirm"' in response.text
    assert "the two passwords differ" in response.text


def test_enterprise_registration_signs_in_a_pending_enterprise(
    client: TestClient, demo: object
) -> None:
    page = client.get("/register/enterprise")
    response = client.post(
        "/register/enterprise",
        data={
            "csrf_token": csrf_of(page.text),
            "credit_code": OTHER_CODE,
            "enterprise_name": "柳州新材料有限公司",
            "contact_name": "王经理",
            "username": "liuzhou",
            "password": "a-good-password",
            "password_confirm": "a-good-password",
            "commitment": "yes",
            "commitment_version": "1",
        },
    )
    assert response.status_code == 200
    assert 'data-testid="pending-notice"' in response.text
    assert "柳州新材料有限公司" in response.text


def test_an_institution_applies_and_the_operator_approves_it_in_the_portal(
    client: TestClient, demo: object, session: Session
) -> None:
    page = client.get("/register/institution")
    applied = client.post(
        "/register/institution",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "北部湾村镇银行",
            "institution_type": "bank",
            "licence_number": "S0001H245010001",
            "contact_name": "李行长",
            "username": "beibu-bank",
            "password": "a-good-password",
            "password_confirm": "a-good-password",
        },
    )
    assert 'data-testid="pending-notice"' in applied.text
    client.cookies.clear()
    sign_in(client, "operator")
    applications = client.get("/admin/applications")
    assert "北部湾村镇银行" in applications.text
    org = service.list_organizations(session, state="pending")[0][0]
    # onboarding waits for the security assessment: here it was passed
    supervision_demo.certify(session, org)
    session.commit()
    approved = client.post(
        f"/admin/organizations/{org.public_id}/approve",
        data={"csrf_token": csrf_of(applications.text), "back": "/admin/applications"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == "/admin/applications"
    session.expire_all()
    assert service.get_organization_or_raise(session, public_id=org.public_id).state == "active"


def test_rejecting_without_a_reason_shows_the_error_and_changes_nothing(
    client: TestClient, demo: object, session: Session
) -> None:
    service.apply_institution(
        session,
        name="某担保公司",
        institution_type="guarantor",
        licence_number="G-1",
        contact_name="赵",
        username="guarantor",
        password="a-good-password",
    )
    session.commit()
    org = service.list_organizations(session, state="pending")[0][0]
    sign_in(client, "operator")
    page = client.get(f"/admin/organizations/{org.public_id}")
    response = client.post(
        f"/admin/organizations/{org.public_id}/reject",
        data={"csrf_token": csrf_of(page.text), "reason": ""},
    )
    assert response.status_code == 422
    assert "请填写原因" in response.text
    session.expire_all()
    assert service.get_organization_or_raise(session, public_id=org.public_id).state == "pending"


def test_the_operator_creates_a_provider_and_a_user_through_forms(
    portal: Portal, session: Session
) -> None:
    client = portal("operator")
    page = client.get("/admin/organizations")
    missing = client.post(
        "/admin/organizations",
        data={
            "csrf_token": csrf_of(page.text),
            "kind": "provider",
            "name": "",
            "contact_name": "张科长",
        },
    )
    assert missing.status_code == 422
    assert 'data-error-for="name"' in missing.text
    assert 'value="张科长"' in missing.text
    created = client.post(
        "/admin/organizations",
        data={
            "csrf_token": csrf_of(page.text),
            "kind": "provider",
            "name": "人力资源和社会保障局",
            "department_code": "hrss",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    detail = client.get(created.headers["location"])
    assert "人力资源和社会保障局" in detail.text
    added = client.post(
        created.headers["location"] + "/users",
        data={
            "csrf_token": csrf_of(detail.text),
            "username": "hrss",
            "display_name": "张科长",
            "role": "admin",
            "password": "hrss-password",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert service.get_user_or_raise(session, username="hrss").organization.name == (
        "人力资源和社会保障局"
    )


def test_organization_list_pages(portal: Portal, session: Session) -> None:
    for number in range(25):
        service.create_partner_organization(
            session, kind="auditor", name=f"审计{number:02d}", actor="test"
        )
    session.commit()
    client = portal("operator")
    first = client.get("/admin/organizations")
    assert "第 1 页，共 2 页" in first.text
    second = client.get("/admin/organizations?page=2")
    assert "第 2 页，共 2 页" in second.text
    assert second.text.count("/admin/organizations/org_") == 31 - 20


def test_an_api_key_is_shown_once_and_can_be_revoked(portal: Portal, session: Session) -> None:
    client = portal("provider-tax")
    page = client.get("/account/api-keys")
    created = client.post(
        "/account/api-keys",
        data={"csrf_token": csrf_of(page.text), "name": "税务推送", "scopes": "ingest:write"},
    )
    assert 'data-testid="new-key"' in created.text
    listing = client.get("/account/api-keys")
    assert 'data-testid="new-key"' not in listing.text
    key = session.scalar(select(ApiKey))
    assert key is not None
    revoked = client.post(
        f"/account/api-keys/{key.public_id}/revoke",
        data={"csrf_token": csrf_of(listing.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    session.expire_all()
    assert session.scalar(select(ApiKey)).revoked_at is not None  # type: ignore[union-attr]


def test_an_api_key_without_scopes_is_refused_by_the_field(
    portal: Portal, session: Session
) -> None:
    client = portal("provider-tax")
    page = client.get("/account/api-keys")
    response = client.post(
        "/account/api-keys", data={"csrf_token": csrf_of(page.text), "name": "税务推送"}
    )
    assert response.status_code == 422
    assert 'data-error-for="scopes"' in response.text
    assert 'value="税务推送"' in response.text
    assert _count(session, ApiKey) == 0


def test_changing_the_password_in_the_portal(portal: Portal) -> None:
    client = portal("bank")
    page = client.get("/account/password")
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_of(page.text),
            "current_password": "nope-nope",
            "new_password": "brand-new-pass",
            "new_password_confirm": "brand-new-pass",
        },
    )
    assert 'data-error-for="current_password"' in wrong.text
    done = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_of(page.text),
            "current_password": DEMO_PASSWORD,
            "new_password": "brand-new-pass",
            "new_password_confirm": "brand-new-pass",
        },
    )
    assert "密码已修改" in done.text
    assert client.get("/dashboard").status_code == 200  # this session stays


def test_every_form_field_has_a_label(portal: Portal) -> None:
    import re

    client = portal("operator")
    pages = ["/admin/organizations", "/account/api-keys", "/account/password"]
    client.cookies.clear()
    pages_anonymous = ["/login", "/register/enterprise", "/register/institution"]
    htmls = [client.get(path).text for path in pages_anonymous]
    sign_in(client, "operator")
    htmls += [client.get(path).text for path in pages]
    for html in htmls:
        ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html)
        for field_id in ids:
            assert f'for="{field_id}"' in html, field_id
        visible = re.findall(
            r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|checkbox)")[^>]*>', html
        )
        assert all('id="' in tag for tag in visible)


def test_an_unknown_organization_is_a_not_found_page(portal: Portal) -> None:
    response = portal("operator").get("/admin/organizations/org_nothing")
    assert response.status_code == 404
    assert "此页面不存在" in response.text


def test_pages_are_not_cached_or_framed(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_an_enterprise_admin_adds_a_read_only_member_who_sees_no_admin_menu(
    portal: Portal, session: Session
) -> None:
    import re

    client = portal("enterprise")
    page = client.get("/account/members")
    bad = client.post(
        "/account/members",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "X",
            "display_name": "会计",
            "role": "read_only",
            "password": "a-good-password",
        },
    )
    assert bad.status_code == 422
    assert 'data-error-for="username"' in bad.text
    assert 'value="会计"' in bad.text
    added = client.post(
        "/account/members",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "accountant",
            "display_name": "会计",
            "role": "read_only",
            "password": "a-good-password",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    member = service.get_user_or_raise(session, username="accountant")
    assert member.organization.credit_code == "91450100MA5K00001E"
    client.cookies.clear()
    sign_in(client, "accountant", "a-good-password")
    html = client.get("/dashboard").text
    assert re.findall(r'data-nav="([^"]+)"', html) == [
        "/dashboard",
        "/profile/91450100MA5K00001E",
        "/graph/enterprises/91450100MA5K00001E",
        "/consent/letters",
        "/consent/access-log",
        "/consent/commitment",
        "/market",
        "/market/needs",
        "/market/applications",
        "/market/loans",
        "/risk/blacklist",
        "/rights",
        "/sharing",
        "/account/password",
    ]
    assert client.get("/account/members").status_code == 403
