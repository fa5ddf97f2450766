"""``xyd scorecard fit|score|compare|show`` on the shipped loans table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.scoring.conftest import LOANS
from typer.testing import CliRunner

from xinyidai.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder written by ``xyd scorecard fit`` (with the challenger)."""
    out = tmp_path_factory.mktemp("model") / "loans-model"
    result = runner.invoke(
        app,
        [
            "scorecard",
            "fit",
            "--data",
            str(LOANS),
            "--target",
            "bad",
            "--id",
            "loan_id",
            "--out",
            str(out),
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    # Its progress, step by step, with the time since it began.
    for step in ("reading", "fitting the scorecard and the LightGBM challenger", "writing"):
        assert step in result.output
    return out


def test_fit_writes_the_model_and_its_report(fitted: Path) -> None:
    names = {p.name for p in fitted.iterdir()}
    assert {
        "scorecard.json",
        "report.json",
        "report.html",
        "roc.png",
        "score_distribution.png",
        "bins.csv",
    } <= names
    for chart in ("roc.png", "score_distribution.png"):
        assert (fitted / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = json.loads((fitted / "scorecard.json").read_text(encoding="utf-8"))
    assert not (fitted / "scorecard.json").read_bytes().startswith(b"\x80")  # not a pickle
    assert model["id_column"] == "loan_id"
    assert model["target"] == "bad"
    report = json.loads((fitted / "report.json").read_text(encoding="utf-8"))
    assert report["split"]["test_rows"] == 450
    assert report["split"]["seed"] == 3
    test = report["metrics"]["scorecard"]["test"]
    assert 0.6 < test["auc"] < 1
    assert 0 < test["ks"] < 1
    assert "challenger" in report["metrics"]
    assert report["information_value"]["late_payments"] > report["information_value"]["noise"]
    assert report["dropped"]["branch_code"] == "constant"
    assert sum(row["rows"] for row in report["calibration"]) == 450
    assert sum(row["rows"] for row in report["grades"]) == 450
    html = (fitted / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert "http" not in html.split("<body>", 1)[1]


def test_score_writes_id_score_probability_grade_and_reasons(fitted: Path, tmp_path: Path) -> None:
    new = tmp_path / "new.csv"
    new.write_text(
        "loan_id,late_payments,income,region,noise\n"
        "N1,5,1800,west,0.2\n"
        "N2,0,25000,north,0.1\n"
        "N3,,,moon,\n",
        encoding="utf-8",
    )
    out = tmp_path / "scored.csv"
    result = runner.invoke(
        app,
        ["scorecard", "score", "--model", str(fitted), "--data", str(new), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["loan_id", "score", "probability", "grade", "reasons"]
    assert [r["loan_id"] for r in rows] == ["N1", "N2", "N3"]
    risky, safe, unknown = rows
    assert float(risky["score"]) < float(safe["score"])
    assert float(risky["probability"]) > float(safe["probability"])
    reasons = json.loads(risky["reasons"])
    assert {r["code"] for r in reasons} >= {"LATE_PAYMENTS", "INCOME"}
    assert all(r["impact"] < 0 and r["text_zh"] and r["text_en"] for r in reasons)
    unseen = json.loads(unknown["reasons"])
    assert any(r["text_en"] == "region: a value not seen in training" for r in unseen)
    assert unknown["grade"]


def test_score_refuses_data_without_a_model_column(fitted: Path, tmp_path: Path) -> None:
    new = tmp_path / "thin.csv"
    new.write_text("loan_id,late_payments\nN1,1\n", encoding="utf-8")
    out = tmp_path / "never.csv"
    result = runner.invoke(
        app,
        ["scorecard", "score", "--model", str(fitted), "--data", str(new), "--out", str(out)],
    )
    assert result.exit_code == 1
    assert "which the model needs" in result.output
    assert not out.exists()


def test_fit_refuses_a_target_that_is_not_0_or_1(tmp_path: Path) -> None:
    data = tmp_path / "graded.csv"
    data.write_text("x,grade\n1,A\n2,B\n3,A\n", encoding="utf-8")
    out = tmp_path / "model"
    result = runner.invoke(
        app, ["scorecard", "fit", "--data", str(data), "--target", "grade", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "must hold only 0 and 1" in result.output
    assert "(target)" in result.output
    assert not out.exists()


def test_fit_refuses_a_missing_file_and_unknown_columns(tmp_path: Path) -> None:
    out = tmp_path / "model"
    missing = runner.invoke(
        app,
        [
            "scorecard",
            "fit",
            "--data",
            str(tmp_path / "nope.csv"),
            "--target",
            "bad",
            "--out",
            str(out),
        ],
    )
    assert missing.exit_code == 1
    assert "no such file" in missing.output
    unknown = runner.invoke(
        app,
        [
            "scorecard",
            "fit",
            "--data",
            str(LOANS),
            "--target",
            "bad",
            "--exclude",
            "nothing",
            "--out",
            str(out),
        ],
    )
    assert unknown.exit_code == 1
    assert "(exclude)" in unknown.output
    assert not out.exists()


def test_compare_shows_the_scorecard_against_the_challenger() -> None:
    result = runner.invoke(
        app,
        [
            "scorecard",
            "compare",
            "--data",
            str(LOANS),
            "--target",
            "bad",
            "--id",
            "loan_id",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    models = {(r["model"], r["part"]) for r in data["results"]}
    assert models == {
        ("scorecard", "train"),
        ("scorecard", "test"),
        ("challenger", "train"),
        ("challenger", "test"),
    }
    assert data["split"]["train_rows"] + data["split"]["test_rows"] == 1500


def test_show_prints_the_summary(fitted: Path) -> None:
    result = runner.invoke(app, ["scorecard", "show", "--model", str(fitted)])
    assert result.exit_code == 0
    assert "late_payments" in result.stdout
    assert "points" in result.stdout


def test_reason_texts_can_name_the_columns(tmp_path: Path) -> None:
    texts = tmp_path / "reasons.json"
    texts.write_text(
        json.dumps(
            {
                "late_payments": {"code": "R01", "zh": "逾期次数", "en": "Late payments"},
                "income": {
                    "code": "R02",
                    "zh": "月收入",
                    "en": "Monthly income",
                    "missing": {"zh": "未申报收入", "en": "income not declared"},
                },
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    out = tmp_path / "model"
    fitted = runner.invoke(
        app,
        [
            "scorecard",
            "fit",
            "--data",
            str(LOANS),
            "--target",
            "bad",
            "--id",
            "loan_id",
            "--reasons",
            str(texts),
            "--no-challenger",
            "--out",
            str(out),
        ],
    )
    assert fitted.exit_code == 0, fitted.output
    new = tmp_path / "new.csv"
    new.write_text("loan_id,late_payments,income,region,noise\nN1,6,,west,0\n", encoding="utf-8")
    scored = tmp_path / "scored.csv"
    result = runner.invoke(
        app, ["scorecard", "score", "--model", str(out), "--data", str(new), "--out", str(scored)]
    )
    assert result.exit_code == 0, result.output
    with scored.open(encoding="utf-8") as handle:
        reasons = {r["code"]: r for r in json.loads(next(csv.DictReader(handle))["reasons"])}
    assert reasons["R01"]["text_zh"].startswith("逾期次数：")
    assert reasons["R01"]["text_en"].startswith("Late payments: ")
    assert reasons["R02"]["text_zh"] == "月收入：未申报收入"


def test_reason_texts_for_unknown_columns_are_refused(tmp_path: Path) -> None:
    texts = tmp_path / "reasons.json"
    texts.write_text('{"salary": {"code": "R9", "zh": "工资", "en": "Salary"}}', encoding="utf-8")
    out = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "scorecard",
            "fit",
            "--data",
            str(LOANS),
            "--target",
            "bad",
            "--reasons",
            str(texts),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert "(reasons)" in result.output
    assert not out.exists()
