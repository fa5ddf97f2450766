"""The scorecard toolkit on the shipped loans table, whose answer is known.

``loans.csv`` was drawn so that the bad rate rises with late payments, falls with income
and is highest in the west; ``noise`` carries nothing, ``branch_code`` is constant and
``collateral_value`` always empty.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xinyidai.core.errors import ValidationFailed
from xinyidai.scoring.scorecard import Grades, Scaling, Scorecard, ScorecardModel
from xinyidai.scoring.scorecard.table import Table, prepare, target_values


def _rates(card: Scorecard, name: str) -> list[float]:
    feature = card.model_.feature(name)
    return [b.bad_rate for b in feature.bins if b.bad_rate is not None]


def test_late_payments_bins_rise_and_income_bins_fall(card: Scorecard) -> None:
    late = _rates(card, "late_payments")
    income = _rates(card, "income")
    assert len(late) >= 3
    assert len(income) >= 3
    assert late == sorted(late)
    assert income == sorted(income, reverse=True)
    points = [b.points for b in card.model_.feature("late_payments").bins]
    assert points == sorted(points, reverse=True)  # more late payments, fewer points


def test_west_is_the_riskiest_region(card: Scorecard) -> None:
    region = card.model_.feature("region")
    worst = min(region.bins, key=lambda b: b.points)
    assert worst.categories == ("west",)
    assert max(b.bad_rate or 0 for b in region.bins) == worst.bad_rate


def test_constant_and_empty_columns_are_dropped_with_their_reason(card: Scorecard) -> None:
    assert card.dropped_["branch_code"] == "constant"
    assert card.dropped_["collateral_value"] == "all values are missing"
    assert "branch_code" not in card.features_
    assert "loan_id" not in card.feature_names_in_


def test_the_noise_column_is_the_weakest(card: Scorecard) -> None:
    strengths = card.iv_
    assert strengths["noise"] == min(strengths.values())
    assert strengths["late_payments"] > 0.3
    assert strengths["income"] > 0.3


def test_points_of_a_rows_bins_add_up_to_its_score(card: Scorecard, loans: Table) -> None:
    model = card.model_
    scored = model.apply(loans.X)
    for row in range(0, len(scored), 97):
        total = sum(
            model.features[j].all_bins[scored.bins[row, j]].points
            for j in range(len(model.features))
        )
        assert total == scored.score[row]
        assert float(total).is_integer()  # rounded points
    p = 1 / (1 + np.exp((scored.score - model.scaling.offset) / model.scaling.factor))
    assert np.allclose(scored.probability, p)
    assert np.allclose(card.predict_proba(loans.X)[:, 1], scored.probability)
    assert list(card.score(loans.X)) == list(scored.score)


def test_grades_follow_the_cut_offs(card: Scorecard, loans: Table) -> None:
    scored = card.model_.apply(loans.X)
    for score, grade in zip(scored.score, scored.grade, strict=True):
        cut = dict(card.model_.grades.bands)[grade]
        assert cut is None or score >= cut
    assert Grades().of(np.array([660.0, 659.9, 600.0, 519.0])).tolist() == [
        "AAA",
        "AA",
        "BBB",
        "C",
    ]


def test_reasons_are_the_bins_below_their_best(card: Scorecard) -> None:
    model = card.model_
    worst = pd.DataFrame(
        {
            "late_payments": [6, 0],
            "income": [1500, 20000],
            "region": ["west", "north"],
            "noise": [0.0, 0.0],
            "branch_code": ["B01", "B01"],
            "collateral_value": [None, None],
        }
    )
    scored = model.apply(worst)
    reasons = scored.reasons()
    bad = {r.feature.name: r for r in reasons[0]}
    assert {"late_payments", "income", "region"} <= set(bad)
    for reason in reasons[0]:
        feature = reason.feature
        assert reason.impact == feature.all_bins[reason.bin].points - feature.best_points < 0
        assert feature.all_bins[reason.bin].points == min(b.points for b in feature.bins) or (
            feature.name == "noise"
        )
    impacts = [r.impact for r in reasons[0]]
    assert impacts == sorted(impacts)  # largest loss first
    assert bad["late_payments"].code == "LATE_PAYMENTS"
    last = model.feature("late_payments").bins[-1].label
    assert last.startswith(">= ")
    assert bad["late_payments"].text("en") == f"late_payments: {last}"
    assert bad["region"].text("zh_CN") == "region：west"
    assert all(r.feature.name == "noise" for r in reasons[1])  # the good row loses nothing else
    explained = card.explain(worst)
    assert explained[0][0]["code"] == reasons[0][0].code
    assert set(explained[0][0]) == {"code", "feature", "text_zh", "text_en", "impact"}


def test_unseen_category_and_missing_values_are_scored(card: Scorecard) -> None:
    model = card.model_
    rows = pd.DataFrame(
        {
            "late_payments": [None, "three"],
            "income": [None, 5000],
            "region": ["moon", None],
            "noise": [0.1, 0.1],
        }
    )
    scored = model.apply(rows)
    region = model.feature("region")
    late = model.feature("late_payments")
    assert scored.bins[0, model.feature_names.index("region")] == region.other_index
    assert scored.bins[1, model.feature_names.index("region")] == region.missing_index
    assert scored.bins[0, model.feature_names.index("late_payments")] == late.missing_index
    # a text in a numeric column counts as missing
    assert scored.bins[1, model.feature_names.index("late_payments")] == late.missing_index
    assert region.other is not None
    assert region.other.woe == 0.0
    assert region.label(region.other_index, "en") == "a value not seen in training"
    assert np.all(np.isfinite(scored.score))


def test_a_column_the_model_needs_must_be_there(card: Scorecard) -> None:
    with pytest.raises(ValidationFailed) as caught:
        card.model_.apply({"late_payments": [1]})
    assert caught.value.field in {"income", "region", "noise"}
    assert "needs" in str(caught.value)


def test_the_model_is_readable_json_and_scores_the_same_loaded(
    card: Scorecard, loans: Table, tmp_path: Path
) -> None:
    path = card.model_.save(tmp_path / "scorecard.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "xyd-scorecard"
    assert data["version"] == card.model_.version
    assert {f["name"] for f in data["features"]} == set(card.features_)
    assert data["scaling"] == {"base_score": 600.0, "base_odds": 50.0, "pdo": 20.0}
    loaded = ScorecardModel.load(tmp_path)
    assert loaded.version == card.model_.version
    assert np.array_equal(loaded.apply(loans.X).score, card.model_.apply(loans.X).score)


def test_transform_gives_each_values_weight_of_evidence(card: Scorecard, loans: Table) -> None:
    woe = card.transform(loans.X)
    assert list(woe.columns) == card.features_
    late = card.model_.feature("late_payments")
    zero = loans.X.index[loans.X["late_payments"] == 0][0]
    assert woe.loc[zero, "late_payments"] == late.bins[0].woe > 0


def test_summary_names_every_feature_and_every_dropped_column(card: Scorecard) -> None:
    text = card.summary()
    for name in (*card.features_, "branch_code", "collateral_value"):
        assert name in text
    assert "600 points at odds 50:1" in text


def test_fitting_again_gives_the_same_version(loans: Table, card: Scorecard) -> None:
    again = Scorecard(name="loans").fit(loans.X, loans.y)
    assert again.model_.version == card.model_.version


@pytest.mark.parametrize(
    ("values", "found"),
    [([0, 1, 2, 1], "2"), (["0", "yes", "1", "0"], "yes"), ([0.0, 1.0, 0.5, 1.0], "0.5")],
)
def test_a_target_that_is_not_0_or_1_is_a_clear_error(values: list[object], found: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        target_values(values, "bad")
    assert caught.value.field == "target"
    assert "must hold only 0 and 1" in str(caught.value)
    assert found in str(caught.value)


def test_a_target_with_empty_values_or_one_class_is_an_error() -> None:
    with pytest.raises(ValidationFailed, match="empty values") as empty:
        target_values([0, None, 1], "bad")
    assert empty.value.field == "target"
    with pytest.raises(ValidationFailed, match="both classes"):
        target_values([0, 0, 0], "bad")


def test_the_estimator_checks_its_target_too(loans: Table) -> None:
    y = loans.y.copy()
    y[3] = 7
    with pytest.raises(ValidationFailed) as caught:
        Scorecard().fit(loans.X, y)
    assert caught.value.field == "target"


def test_naming_columns_that_do_not_exist_is_an_error(frame: pd.DataFrame) -> None:
    with pytest.raises(ValidationFailed) as caught:
        prepare(frame, target="default_flag")
    assert caught.value.field == "target"
    with pytest.raises(ValidationFailed) as caught:
        prepare(frame, target="bad", exclude=["nope"])
    assert caught.value.field == "exclude"


def test_nothing_to_score_with_is_an_error(frame: pd.DataFrame) -> None:
    table = prepare(frame[["noise", "branch_code", "bad"]], target="bad")
    with pytest.raises(ValidationFailed) as caught:
        Scorecard(min_iv=0.5).fit(table.X, table.y)
    assert caught.value.field == "data"


def test_scaling_puts_the_base_score_at_the_base_odds() -> None:
    scaling = Scaling()
    assert math.isclose(float(scaling.probability(np.array([600.0]))[0]), 1 / 51)
    odds = [(1 - p) / p for p in scaling.probability(np.array([600.0, 620.0]))]
    assert math.isclose(odds[1] / odds[0], 2.0)
    with pytest.raises(ValidationFailed) as caught:
        Scaling(pdo=0)
    assert caught.value.field == "pdo"


@pytest.mark.parametrize(
    "text", ["A:600,B:620,C", "A:600,B:500", "A:600,A:500,C", "A:high,C", ":600,C"]
)
def test_bad_grade_cut_offs_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Grades.parse(text)
    assert caught.value.field == "grades"


def test_grade_cut_offs_are_configurable(loans: Table) -> None:
    card = Scorecard(grades=Grades.parse("GOOD:600,FAIR:560,POOR")).fit(loans.X, loans.y)
    assert set(card.model_.apply(loans.X).grade) <= {"GOOD", "FAIR", "POOR"}
