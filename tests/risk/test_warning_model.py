"""The shipped early-warning model: readable, loaded like the rating model, applied to the
table the refresh builds, and explained by its bins."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import XydEnv
from xinyidai.core.errors import ValidationFailed
from xinyidai.risk import warning_model
from xinyidai.scoring import loan_behaviour


def _loans(**changes: list[object]) -> pl.DataFrame:
    base: dict[str, list[object]] = {
        "credit_code": ["A", "B"],
        "loan_id": ["l1", "l2"],
        "principal": [100000.0, 100000.0],
        "outstanding": [60000.0, 60000.0],
        "live": [True, True],
        "defaulted": [False, False],
        "instalments_due": [6.0, 6.0],
        "instalments_on_time": [6.0, 6.0],
        "max_days_overdue": [0.0, 0.0],
        "days_overdue_now": [0.0, 0.0],
    }
    base.update(changes)
    return pl.DataFrame(base, schema=loan_behaviour.schema())


def test_the_shipped_model_is_readable_json_over_known_features() -> None:
    body = json.loads(warning_model.SHIPPED.read_text(encoding="utf-8"))
    assert body["format"] == "xyd-scorecard"
    assert body["name"] == warning_model.MODEL_NAME
    assert [g["grade"] for g in body["grades"]] == list(warning_model.BAND_NAMES)
    model = warning_model.current()
    assert model.version == body["version"]
    assert set(model.feature_names) <= set(warning_model.NAMES)
    assert {"days_overdue_now", "rating_score"} <= set(model.feature_names)


def test_a_loan_in_trouble_ranks_above_a_clean_one_and_says_why() -> None:
    loans = _loans(
        instalments_on_time=[6.0, 3.0], max_days_overdue=[0.0, 75.0], days_overdue_now=[0.0, 75.0]
    )
    borrowers = pl.DataFrame(
        {"credit_code": ["A", "B"], "rating_score": [640.0, 560.0], "bad_associates_1": [0, 2]}
    )
    table = warning_model.table(loans, borrowers)
    assert table.columns == ["loan_id", "credit_code", *warning_model.NAMES]
    model = warning_model.current()
    scored = model.apply({n: table[n].to_numpy() for n in model.feature_names})
    clean, troubled = scored.probability.tolist()
    assert troubled > 3 * clean
    assert scored.grade[1] in ("high", "severe")
    reasons = scored.reasons()
    codes = [reason.code for reason in reasons[1]]
    assert "OVERDUE_NOW" in codes
    assert all(reason.impact < 0 for reason in reasons[1])
    text = reasons[1][codes.index("OVERDUE_NOW")].text("zh_CN")
    assert text.startswith("本笔贷款当前逾期天数：")
    # the points of its bins add up to its score
    assert scored.points[1].sum() == pytest.approx(scored.score[1], abs=1.0)


def test_loans_not_live_are_left_out_and_an_unknown_borrower_is_unrated() -> None:
    loans = _loans(live=[True, False])
    table = warning_model.table(
        loans,
        pl.DataFrame(
            {"credit_code": [], "rating_score": [], "bad_associates_1": []},
            schema={
                "credit_code": pl.String,
                "rating_score": pl.Float64,
                "bad_associates_1": pl.Float64,
            },
        ),
    )
    assert table["loan_id"].to_list() == ["l1"]
    assert table["rating_score"].to_list() == [None]
    assert table["bad_associates_1"].to_list() == [0.0]


def test_a_model_in_the_data_folder_takes_over_and_a_foreign_one_is_refused(
    tmp_path: Path, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_DATA_DIR=str(tmp_path))
    installed = warning_model.installed_path()
    installed.parent.mkdir(parents=True)
    body = json.loads(warning_model.SHIPPED.read_text(encoding="utf-8"))
    body["features"][0]["name"] = "shoe_size"
    installed.write_text(json.dumps(body), encoding="utf-8")
    assert warning_model.path_in_force() == installed
    with pytest.raises(ValidationFailed) as refused:
        warning_model.current()
    assert refused.value.field == "model"
