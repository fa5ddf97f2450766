"""The data pages through HTTP: a provider uploads files and fixes rejected rows, the
operator follows every batch and the quality of each feed."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import DEMO_PASSWORD, add_department
from tests.conftest import XydEnv
from tests.ingest.tables import HEADERS, code, good_row, write
from tests.web.conftest import csrf_of, sign_in
from xinyidai.core import jobs
from xinyidai.core.settings import get_settings
from xinyidai.iam import service as iam_service
from xinyidai.ingest import service as ingest_service
from xinyidai.ingest.models import Batch, Rejection
from xinyidai.records.models import CreditRecord

Portal = Callable[[str], TestClient]
CATEGORY = "court_enforcement"
BATCH_URL = re.compile(r"^/data/batches/(bat_[0-9A-Za-z_-]+)$")


@pytest.fixture(autouse=True)
def court(demo: object, session: Session) -> None:
    """A court department beside the demo's two: the source of court enforcement, the
    category these pages' files carry."""
    add_department(session, code="court", name="中级人民法院", username="provider-court")


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _upload(
    client: TestClient,
    name: str,
    content: bytes,
    category: str = CATEGORY,
    *,
    csrf: bool = True,
) -> Response:
    form = {"category": category}
    if csrf:
        form["csrf_token"] = csrf_of(client.get("/data/upload").text)
    return client.post(
        "/data/upload", data=form, files={"file": (name, content)}, follow_redirects=False
    )


def _upload_path(client: TestClient, path: Path, category: str = CATEGORY) -> str:
    """Upload a file through the form; the id of the batch it made."""
    response = _upload(client, path.name, path.read_bytes(), category)
    assert response.status_code == 303, response.text
    match = BATCH_URL.match(response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def _feed(
    tmp_path: Path,
    fmt: str = "csv",
    bad: dict[int, tuple[int, str]] | None = None,
    name: str = "feed",
) -> Path:
    """Four rows of court enforcement; ``bad`` maps a row index to (column, wrong value)."""
    rows = [good_row(n) for n in range(1, 5)]
    for index, (column, value) in (bad or {}).items():
        rows[index][column] = value
    return write(tmp_path / name, fmt, HEADERS, rows)


def _abnormal_operations(tmp_path: Path) -> Path:
    """Two rows of the abnormal operations list, a market regulator's category."""
    headers = ["统一社会信用代码", "主体名称", "列入经营异常名录原因", "列入日期", "行政区划代码"]
    rows = [
        [code(n), f"宁夏测试{n}有限公司", "通过登记的住所无法联系", "2024-05-06", "640104"]
        for n in (1, 2)
    ]
    return write(tmp_path / "abnormal", "csv", headers, rows)


def _count_cell(html: str, name: str) -> str:
    match = re.search(rf'data-count="{name}">([^<]*)<', html)
    assert match, f"no count {name}"
    return match.group(1)


def _uploads_left() -> list[Path]:
    folder = get_settings().data_dir / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("fmt", ["csv", "gb18030.csv", "xlsx", "json", "jsonl"])
def test_a_provider_uploads_a_good_file_and_sees_its_batch(
    portal: Portal, session: Session, tmp_path: Path, fmt: str
) -> None:
    client = portal("provider-court")
    batch_id = _upload_path(client, _feed(tmp_path, fmt))
    page = client.get(f"/data/batches/{batch_id}")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="batch-state">完成<' in html
    assert (_count_cell(html, "total"), _count_cell(html, "accepted")) == ("4", "4")
    assert _count_cell(html, "rejected") == "0"
    assert "被执行人信息" in html
    assert "没有被拒收的行" in html
    assert "hx-get" not in html  # nothing left to poll
    assert _count(session, CreditRecord) == 4
    batch = session.get(Batch, batch_id)
    assert batch is not None
    assert (batch.provider, batch.source, batch.created_by) == ("court", "upload", "provider-court")
    if fmt == "gb18030.csv":
        assert batch.encoding == "gb18030"
    listing = client.get("/data/batches").text
    assert f'href="/data/batches/{batch_id}"' in listing
    assert "上传批次" in listing
    assert _uploads_left() == []


def test_rejected_rows_are_listed_with_line_field_and_translated_reason(
    portal: Portal, session: Session, tmp_path: Path
) -> None:
    client = portal("provider-court")
    path = _feed(tmp_path, bad={1: (5, "abc"), 2: (4, "2024-02-31")})
    batch_id = _upload_path(client, path)
    html = client.get(f"/data/batches/{batch_id}").text
    assert (_count_cell(html, "accepted"), _count_cell(html, "rejected")) == ("2", "2")
    table = html[html.index('data-testid="rejection-table"') :]
    assert re.search(r'data-line="3">3</th>\s*<td>执行标的</td>\s*<td>不是数字：abc</td>', table)
    assert re.search(
        r'data-line="4">4</th>\s*<td>立案日期</td>\s*<td>不是有效日期：2024-02-31</td>', table
    )
    assert 'href="/data/batches/' + batch_id + '/rejections.csv"' in html
    assert 'data-testid="resubmit-form"' in html
    assert _count(session, CreditRecord) == 2
    english = client.get(f"/data/batches/{batch_id}?lang=en").text
    assert "not a valid date: 2024-02-31" in english
    assert "Filed on" in english


def test_a_missing_required_value_names_the_fields_label(portal: Portal, tmp_path: Path) -> None:
    client = portal("provider-court")
    batch_id = _upload_path(client, _feed(tmp_path, bad={0: (2, "")}))
    html = client.get(f"/data/batches/{batch_id}").text
    assert "缺少必填字段：案号" in html


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "文件为空"),
        ("header-only.csv", ",".join(HEADERS).encode(), "文件中没有数据行"),
        (
            "picture.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20,
            "文件是二进制文件，不是 CSV 表格",
        ),
        ("report.pdf", b"%PDF-1.4 not a table", "不支持的文件格式 pdf"),
        ("sheet.xlsx", b"just some text, not a workbook", "文件不是 Excel 工作簿（.xlsx 或 .xls）"),
    ],
)
def test_a_file_that_is_no_table_is_refused_by_the_field_and_nothing_is_kept(
    portal: Portal, session: Session, name: str, content: bytes, message: str
) -> None:
    client = portal("provider-court")
    response = _upload(client, name, content)
    assert response.status_code == 422
    assert re.search(rf'data-error-for="file">[^<]*{re.escape(message)}', response.text)
    assert f'<option value="{CATEGORY}" selected>' in response.text
    assert _count(session, Batch) == 0
    assert _count(session, CreditRecord) == 0
    assert _uploads_left() == []


def test_a_form_without_category_or_file_names_both_fields(portal: Portal) -> None:
    client = portal("provider-court")
    response = client.post(
        "/data/upload",
        data={"category": "", "csrf_token": csrf_of(client.get("/data/upload").text)},
        files={"file": ("", b"")},
    )
    assert response.status_code == 422
    assert 'data-error-for="category">请选择数据类别<' in response.text
    assert 'data-error-for="file">请选择文件<' in response.text


def test_an_unknown_category_is_refused_by_its_field(portal: Portal, tmp_path: Path) -> None:
    client = portal("provider-court")
    path = _feed(tmp_path)
    response = _upload(client, path.name, path.read_bytes(), category="no_such_thing")
    assert response.status_code == 404
    assert 'data-error-for="category">没有目录类别 no_such_thing<' in response.text
    assert _uploads_left() == []


def test_a_file_over_the_size_limit_is_refused(
    portal: Portal, session: Session, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_MAX_UPLOAD_MB="1")
    client = portal("provider-court")
    big = ("统一社会信用代码,案号\n" + "x,y\n" * 300_000).encode()
    response = _upload(client, "big.csv", big)
    assert response.status_code == 413
    assert 'data-error-for="file">文件超过 1 MiB<' in response.text
    assert f'<option value="{CATEGORY}" selected>' in response.text
    assert _count(session, Batch) == 0
    assert _uploads_left() == []


def test_an_upload_without_the_csrf_token_is_refused(
    portal: Portal, session: Session, tmp_path: Path
) -> None:
    client = portal("provider-court")
    path = _feed(tmp_path)
    response = _upload(client, path.name, path.read_bytes(), csrf=False)
    assert response.status_code == 403
    assert "表单已失效" in response.text
    assert _count(session, Batch) == 0


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("bank", "/data/upload"),
        ("bank", "/data/batches"),
        ("enterprise", "/data/batches"),
        ("operator", "/data/upload"),
        ("provider-court", "/data/quality"),
        ("auditor", "/data/quality"),
    ],
)
def test_other_roles_get_the_forbidden_page(portal: Portal, username: str, path: str) -> None:
    response = portal(username).get(path)
    assert response.status_code == 403
    assert "您无权打开此页面" in response.text


def test_a_read_only_member_sees_batches_but_cannot_upload(
    client: TestClient, demo: object, session: Session, tmp_path: Path
) -> None:
    sign_in(client, "provider-court")
    batch_id = _upload_path(client, _feed(tmp_path, bad={0: (5, "abc")}))
    organization = iam_service.get_user_or_raise(session, username="provider-court").organization
    iam_service.create_user(
        session,
        organization=organization,
        username="court-viewer",
        display_name="查看员",
        password=DEMO_PASSWORD,
        actor="test",
        role="read_only",
    )
    session.commit()
    client.cookies.clear()
    sign_in(client, "court-viewer")
    home = client.get("/dashboard").text
    assert 'data-nav="/data/batches"' in home
    assert 'data-nav="/data/upload"' not in home
    page = client.get(f"/data/batches/{batch_id}")
    assert page.status_code == 200
    assert 'data-testid="resubmit-form"' not in page.text
    assert client.get("/data/upload").status_code == 403
    assert client.get(f"/data/batches/{batch_id}/rejections.csv").status_code == 200


def test_another_providers_batch_is_not_found(
    portal: Portal, client: TestClient, tmp_path: Path
) -> None:
    batch_id = _upload_path(portal("provider-court"), _feed(tmp_path, bad={0: (5, "abc")}))
    client.cookies.clear()
    market = portal("provider-market")
    for path in ("", "/status", "/rejections.csv", "/rejections.xlsx"):
        response = market.get(f"/data/batches/{batch_id}{path}")
        assert response.status_code == 404, path
    assert batch_id not in market.get("/data/batches").text
    assert market.get("/data/batches/bat_nothing").status_code == 404


def test_the_operator_sees_every_providers_batches_and_filters_them(
    portal: Portal, client: TestClient, tmp_path: Path
) -> None:
    court_batch = _upload_path(portal("provider-court"), _feed(tmp_path))
    client.cookies.clear()
    market_batch = _upload_path(
        portal("provider-market"), _abnormal_operations(tmp_path), "abnormal_operation"
    )
    client.cookies.clear()
    operator = portal("operator")
    html = operator.get("/data/batches").text
    assert court_batch in html
    assert market_batch in html
    assert "中级人民法院" in html
    assert "市场监督管理局" in html
    assert '<option value="court">' in html
    filtered = operator.get("/data/batches", params={"provider": "court"}).text
    assert court_batch in filtered
    assert market_batch not in filtered
    assert '<option value="court" selected>' in filtered
    assert operator.get(f"/data/batches/{market_batch}").status_code == 200
    paged = operator.get("/data/batches", params={"size": 1, "page": 2}).text
    assert court_batch in paged
    assert market_batch not in paged
    assert "第 2 页，共 2 页" in paged


def test_rejected_rows_download_as_csv_and_excel(portal: Portal, tmp_path: Path) -> None:
    client = portal("provider-court")
    batch_id = _upload_path(client, _feed(tmp_path, bad={1: (5, "abc"), 3: (4, "2024-13-01")}))
    as_csv = client.get(f"/data/batches/{batch_id}/rejections.csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert f'filename="{batch_id}-rejections.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["rejection_id", "position", "field", "reason"]
    assert rows[0][4:] == HEADERS
    assert [(r[1], r[2]) for r in rows[1:]] == [("3", "amount"), ("5", "filed_on")]
    assert rows[1][4 + 5] == "abc"

    as_xlsx = client.get(f"/data/batches/{batch_id}/rejections.xlsx")
    assert as_xlsx.status_code == 200
    assert "spreadsheetml" in as_xlsx.headers["content-type"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).worksheets[0]
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0][:4] == ["rejection_id", "position", "field", "reason"]
    assert [(r[1], r[2]) for r in cells[1:]] == [(3, "amount"), (5, "filed_on")]
    assert client.get(f"/data/batches/{batch_id}/rejections.pdf").status_code == 404


def test_a_corrected_file_of_rejected_rows_is_resubmitted(
    portal: Portal, session: Session, tmp_path: Path
) -> None:
    client = portal("provider-court")
    batch_id = _upload_path(client, _feed(tmp_path, bad={1: (5, "abc"), 2: (4, "2024-02-31")}))
    assert _count(session, CreditRecord) == 2
    download = client.get(f"/data/batches/{batch_id}/rejections.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(download)))
    amount, filed_on = rows[0].index("执行标的（元）"), rows[0].index("立案日期")
    rows[1][amount] = "1300.00"
    rows[2][filed_on] = "2024-02-30"  # still wrong
    fixed = io.StringIO()
    csv.writer(fixed).writerows(rows)
    page = client.get(f"/data/batches/{batch_id}")
    response = client.post(
        f"/data/batches/{batch_id}/resubmit",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("fixed.csv", fixed.getvalue().encode("utf-8"))},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    new_id = BATCH_URL.match(response.headers["location"]).group(1)  # type: ignore[union-attr]
    html = client.get(f"/data/batches/{new_id}").text
    assert (_count_cell(html, "accepted"), _count_cell(html, "rejected")) == ("1", "1")
    assert f'href="/data/batches/{batch_id}"' in html
    assert "不是有效日期：2024-02-30" in html
    assert _count(session, CreditRecord) == 3
    original = client.get(f"/data/batches/{batch_id}").text
    assert f"已在 {new_id} 中更正" in original
    assert "共 2 行被拒收，1 行尚待更正" in original


def test_a_resubmission_without_rejection_ids_is_refused_by_the_field(
    portal: Portal, session: Session, tmp_path: Path
) -> None:
    client = portal("provider-court")
    path = _feed(tmp_path, bad={1: (5, "abc")})
    batch_id = _upload_path(client, path)
    page = client.get(f"/data/batches/{batch_id}")
    response = client.post(
        f"/data/batches/{batch_id}/resubmit",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("fixed.csv", path.read_bytes())},
    )
    assert response.status_code == 422
    assert 'data-error-for="file">文件中没有 rejection_id 列' in response.text
    assert _count(session, Batch) == 1
    assert _uploads_left() == []
    no_csrf = client.post(
        f"/data/batches/{batch_id}/resubmit", files={"file": ("fixed.csv", path.read_bytes())}
    )
    assert no_csrf.status_code == 403


def test_the_quality_page_shows_figures_and_the_chart_data(
    portal: Portal, client: TestClient, tmp_path: Path
) -> None:
    _upload_path(portal("provider-court"), _feed(tmp_path, bad={0: (2, "")}))
    client.cookies.clear()
    page = portal("operator").get("/data/quality")
    assert page.status_code == 200
    html = page.text
    row = html[html.index('data-provider="court" data-category="court_enforcement"') :]
    assert re.search(r'data-figure="completeness">75.0%<', row)
    assert re.search(r'data-figure="validity">75.0%<', row)
    assert "按时" in row
    assert "中级人民法院" in row
    assert "被执行人信息" in row
    block = re.search(
        r'<script type="application/json" id="quality-chart-data">(.*?)</script>', html, re.S
    )
    assert block
    chart = json.loads(block.group(1))
    assert chart["categories"] == ["中级人民法院 · 被执行人信息"]
    assert chart["names"] == ["有效率", "完整率"]
    assert chart["series"] == [[75.0], [75.0]]
    assert '<script src="/static/quality.js"></script>' in html
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_queued_batch_shows_a_progress_bar_that_polls_until_done(
    portal: Portal, session: Session
) -> None:
    batch = ingest_service.create_batch(
        session, provider="court", category=CATEGORY, source="upload", actor="provider-court"
    )
    job = jobs.create(session, kind="ingest.file", params={"batch_id": batch.id}, actor=None)
    batch.job_id = job.id
    session.commit()
    client = portal("provider-court")
    page = client.get(f"/data/batches/{batch.id}").text
    assert f'hx-get="/data/batches/{batch.id}/status"' in page
    assert 'hx-trigger="every 1s"' in page
    assert '<meta http-equiv="refresh" content="5">' in page
    fragment = client.get(f"/data/batches/{batch.id}/status", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'data-testid="batch-progress"' in fragment.text
    assert "排队中" in fragment.text
    assert "等待处理" in fragment.text
    assert "HX-Refresh" not in fragment.headers

    batch.state, batch.total = "running", 1200
    job.state, job.done, job.total = jobs.JobState.RUNNING, 1200, 4800
    session.commit()
    running = client.get(f"/data/batches/{batch.id}/status", headers={"HX-Request": "true"})
    assert 'value="25.0"' in running.text
    assert "已读取 1,200 行" in running.text

    batch.state = "done"
    session.commit()
    done = client.get(f"/data/batches/{batch.id}/status", headers={"HX-Request": "true"})
    assert done.headers["HX-Refresh"] == "true"
    assert "hx-get" not in done.text
    assert "排队中" not in done.text


def test_a_large_upload_is_read_by_a_worker_and_the_page_shows_the_result(
    portal: Portal, tmp_path: Path, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_INLINE_UPLOAD_KB="0")
    client = portal("provider-court")
    batch_id = _upload_path(client, _feed(tmp_path))
    html = client.get(f"/data/batches/{batch_id}").text
    assert _count_cell(html, "accepted") == "4"
    assert 'data-testid="batch-state">完成<' in html
    assert _uploads_left() == []


def test_menus_link_the_data_pages(portal: Portal, client: TestClient) -> None:
    provider = portal("provider-court").get("/data/upload").text
    assert 'data-nav="/data/upload" aria-current="page">数据上传<' in provider
    assert 'data-nav="/data/batches"' in provider
    assert '<label for="f-category">' in provider
    assert '<label for="f-file">' in provider
    assert "本部门的类别" in provider
    client.cookies.clear()
    operator = portal("operator").get("/dashboard").text
    assert 'data-nav="/data/batches">上传批次<' in operator
    assert 'data-nav="/data/quality">数据质量<' in operator


def test_rejections_never_leave_their_batch(
    portal: Portal, session: Session, tmp_path: Path
) -> None:
    client = portal("provider-court")
    batch_id = _upload_path(client, _feed(tmp_path, bad={0: (5, "abc")}))
    stored = session.scalars(select(Rejection).where(Rejection.batch_id == batch_id)).all()
    assert [r.errors[0]["message"] for r in stored] == ["not a number: {value}"]


def test_the_upload_form_offers_and_takes_only_the_departments_own_categories(
    portal: Portal, client: TestClient, session: Session, tmp_path: Path
) -> None:
    """The tax office's form lists the tax categories alone, and a court category posted to
    it anyway is refused next to the category, naming the court: nothing is stored."""
    tax = portal("provider-tax")
    page = tax.get("/data/upload").text
    offered = set(re.findall(r'<option value="([a-z_]+)"', page))
    assert offered == {"tax_rating", "tax_payment", "tax_arrears"}
    fake = [
        {
            "统一社会信用代码": code(1),
            "被执行人名称": "宁夏测试1有限公司",
            "案号": "(2025)宁0104执999号",
            "发布时间": "2025-01-02",
            "行政区划代码": "640104",
            "涉案金额": "50000.00",
        }
    ]
    body = json.dumps(fake, ensure_ascii=False).encode()
    response = _upload(tax, "fake.json", body, "dishonest_debtor")
    assert response.status_code == 403
    error = re.search(r'data-error-for="category">([^<]*)<', response.text)
    assert error, response.text
    assert "court" in error.group(1)
    assert "dishonest_debtor" in error.group(1)
    assert (_count(session, Batch), _count(session, CreditRecord)) == (0, 0)
    assert _uploads_left() == []
    client.cookies.clear()
    add_department(session, code="stats", name="统计局", username="provider-stats")
    empty = portal("provider-stats").get("/data/upload").text
    assert not re.findall(r'<option value="([a-z_]+)"', empty)
    assert 'data-testid="no-own-categories"' in empty


def test_a_file_that_breaks_midway_shows_why_in_chinese(
    portal: Portal, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows before the break are stored; the page says where it broke and what was
    stored, in the reader's language."""
    monkeypatch.setenv("XYD_INGEST_MAX_LINE_KB", "2")
    get_settings.cache_clear()
    rows = [good_row(n) for n in range(1, 7)]
    rows[3][2] = "案" * 3000
    client = portal("provider-court")
    try:
        batch_id = _upload_path(client, write(tmp_path / "broken", "csv", HEADERS, rows))
    finally:
        get_settings.cache_clear()
    html = client.get(f"/data/batches/{batch_id}").text
    assert (
        'data-testid="batch-error">第 5 行超过 2048 个字符；此前已读取 3 行并存储：新增 3 条，'
        "更新 0 条，重复 0 条，拒收 0 行<"
    ) in html
    english = client.get(f"/data/batches/{batch_id}?lang=en").text
    assert "line 5 is longer than 2048 characters; stored before it: 3 rows read" in english
    assert _count(session, CreditRecord) == 3
