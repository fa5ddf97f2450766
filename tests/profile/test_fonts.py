"""The report's fonts: the cut is used once prepared, and a character outside it makes the
report be written with the whole face, so that nothing is ever missing from a PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import XydEnv
from tests.consent.world import Auth, World
from tests.profile.test_api import URL, pdf_text
from xinyidai.profile import fonts

# A face of its own name: bold falls back to the same face, so one cut serves both.
SOURCE = fonts.DEFAULT_REGULAR


@pytest.fixture
def cache(tmp_path: Path, xyd_env: XydEnv) -> Path:
    if not SOURCE.is_file():
        pytest.skip("fonts-noto-cjk is not installed")
    link = tmp_path / "report-font.ttc"
    link.symlink_to(SOURCE)
    xyd_env(XYD_REPORT_FONT=str(link), XYD_FONT_CACHE=str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_cut_is_used_once_prepared_and_lacks_what_it_was_not_cut_to(cache: Path) -> None:
    before = fonts.report_fonts()
    assert before.cut is False
    assert before.regular == before.bold
    face, _ = fonts.whole_faces()
    assert face.number > 0  # the Simplified Chinese face of the collection, not the first
    few = frozenset(map(ord, "信用报告 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-:"))
    target = fonts.cut(face, fonts.cut_path(face), few)
    assert target.parent == cache
    assert list(cache.glob("*.part")) == []
    after = fonts.report_fonts()
    assert after.cut is True
    assert after.regular.path == target

    from fontTools.ttLib import TTFont

    kept = set(TTFont(str(target))["cmap"].getBestCmap())
    assert ord("信") in kept
    assert ord("南") not in kept


def test_a_character_outside_the_cut_is_written_with_the_whole_face(
    cache: Path, client: TestClient, auth: Auth, world: World
) -> None:
    face, _ = fonts.whole_faces()
    fonts.cut(face, fonts.cut_path(face), frozenset(map(ord, "信用报告")))
    assert fonts.report_fonts().cut is True
    response = client.get(URL, params={"format": "pdf"}, headers=auth("operator"))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "南宁示范科技有限公司" in text  # none of these are in the cut


def test_a_missing_font_file_names_the_file(tmp_path: Path, xyd_env: XydEnv) -> None:
    xyd_env(XYD_REPORT_FONT=str(tmp_path / "nowhere.otf"))
    with pytest.raises(fonts.Unavailable) as caught:
        fonts.report_fonts()
    assert caught.value.field == "font"
    assert "nowhere.otf" in str(caught.value)
