"""The shipped GB/T 2260 regions and GB/T 4754-2017 industries, and the lookups over them."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from xinyidai.registry import codes

LEVEL_ABOVE = {"prefecture": {"province"}, "county": {"prefecture", "province"}}
INDUSTRY_PARENT_LEVEL = {"division": "section", "group": "division", "class": "group"}


def read_rows(name: str) -> list[dict[str, str]]:
    with (codes.DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", ["regions.csv", "industries.csv"])
def test_data_files_have_the_agreed_shape(name: str) -> None:
    path = codes.DATA_DIR / name
    assert path.stat().st_size < 400_000
    with path.open(encoding="utf-8", newline="") as handle:
        assert handle.readline().strip() == "code,name,level,parent"
    rows = read_rows(name)
    found = [row["code"] for row in rows]
    assert found == sorted(found)
    assert len(set(found)) == len(found)
    assert all(row["name"] and row["name"] == row["name"].strip() for row in rows)


def test_region_counts_per_level_are_those_of_the_mca_list() -> None:
    counts = Counter(item.level for item in codes.regions().values())
    assert set(counts) == {"province", "prefecture", "county"}
    assert 31 <= counts["province"] <= 34
    assert 320 <= counts["prefecture"] <= 345
    assert 2800 <= counts["county"] <= 2900


def test_every_region_code_is_six_digits_and_its_parent_exists_one_level_up() -> None:
    regions = codes.regions()
    for item in regions.values():
        assert len(item.code) == 6, item
        assert item.code.isdigit(), item
        if item.level == "province":
            assert item.parent is None
            assert item.code.endswith("0000")
            continue
        assert item.parent in regions, item
        assert regions[item.parent].level in LEVEL_ABOVE[item.level], item
        assert item.code[:2] == item.parent[:2], item


def test_every_county_starts_with_its_provinces_two_digits() -> None:
    for item in codes.regions().values():
        if item.level == "county":
            province = codes.region_path(item.code)[0]
            assert province.level == "province"
            assert item.code.startswith(province.code[:2]), item


def test_ningxia_rows_are_kept_as_they_were() -> None:
    ningxia = {item.code: item.name for item in codes.regions().values() if item.code[:2] == "64"}
    assert ningxia["640000"] == "宁夏回族自治区"
    assert ningxia["640104"] == "兴庆区"
    assert ningxia["640303"] == "红寺堡区"
    assert ningxia["640522"] == "海原县"
    assert len(ningxia) == 1 + 5 + 22
    assert len(codes.counties_of("64")) == 22


def test_region_lookups() -> None:
    item = codes.region(" 640104 ")
    assert item is not None
    assert (item.name, item.level, item.parent) == ("兴庆区", "county", "640100")
    assert codes.is_region("110105")
    assert codes.region("999999") is None
    assert codes.region("64010") is None
    assert not codes.is_region("")


def test_region_path_runs_from_the_province_down() -> None:
    assert [c.name for c in codes.region_path("640104")] == ["宁夏回族自治区", "银川市", "兴庆区"]
    assert [c.name for c in codes.region_path("330106")] == ["浙江省", "杭州市", "西湖区"]
    assert [c.code for c in codes.region_path("640000")] == ["640000"]
    assert codes.region_path("999999") == []


def test_municipality_districts_hang_directly_under_the_municipality() -> None:
    assert [c.name for c in codes.region_path("110105")] == ["北京市", "朝阳区"]
    assert codes.region("110100") is None
    # 吉林省长春市朝阳区 shares the name but not the code
    assert [c.name for c in codes.region_path("220104")] == ["吉林省", "长春市", "朝阳区"]


def test_county_level_divisions_directly_under_a_province() -> None:
    for code, name in [("429004", "仙桃市"), ("469001", "五指山市"), ("659001", "石河子市")]:
        item = codes.region(code)
        assert item is not None
        assert item.name == name
        assert item.parent == code[:2] + "0000"


def test_industry_counts_are_those_of_gb_t_4754_2017() -> None:
    counts = Counter(item.level for item in codes.industries().values())
    assert counts["section"] == 20
    assert counts["division"] == 97
    assert counts["group"] == 473
    assert 1380 <= counts["class"] <= 1382
    assert set(counts) == {"section", "division", "group", "class"}


def test_industry_hierarchy_is_consistent() -> None:
    industries = codes.industries()
    for item in industries.values():
        if item.level == "section":
            assert item.parent is None
            assert len(item.code) == 1
            assert item.code.isalpha()
            continue
        assert item.parent in industries, item
        parent = industries[item.parent]
        assert parent.level == INDUSTRY_PARENT_LEVEL[item.level], item
        assert item.code.isdigit()
        if item.level != "division":
            assert item.code[:-1] == parent.code, item
        section = codes.industry_section(item.code)
        assert section is not None
        assert section.level == "section"


def test_a_class_climbs_to_its_section() -> None:
    industries = codes.industries()
    chain = []
    current = industries["5211"]
    while current.parent:
        chain.append(current)
        current = industries[current.parent]
    chain.append(current)
    assert [(c.code, c.level) for c in chain] == [
        ("5211", "class"),
        ("521", "group"),
        ("52", "division"),
        ("F", "section"),
    ]
    assert [c.name for c in chain] == ["百货零售", "综合零售", "零售业", "批发和零售业"]


def test_single_class_groups_carry_the_group_and_the_class() -> None:
    group = codes.industry("017")
    klass = codes.industry("0171")
    assert group is not None
    assert group.name == "中药材种植"
    assert klass is not None
    assert klass.parent == "017"
    sugar_group = codes.industry("134")
    sugar_class = codes.industry("1340")
    assert sugar_group is not None
    assert sugar_class is not None
    assert sugar_group.name == sugar_class.name == "制糖业"
    assert sugar_class.parent == "134"


def test_industry_lookups() -> None:
    item = codes.industry("6513")
    assert item is not None
    assert item.name == "应用软件开发"
    assert codes.industry(" f ") is not None
    assert codes.industry("f").name == "批发和零售业"  # type: ignore[union-attr]
    assert codes.is_industry("9700")
    assert codes.industry("F5211") is None  # codes are stored without the section letter
    assert codes.industry("5210") is None
    assert codes.industry("") is None
    assert codes.industry_section("C") == codes.industry("C")
    assert codes.industry_section("ZZ") is None


def test_leaf_industries_are_exactly_the_classes() -> None:
    leaves = codes.leaf_industries()
    classes = [item for item in codes.industries().values() if item.level == "class"]
    assert {item.code for item in leaves} == {item.code for item in classes}
    assert all(len(item.code) == 4 for item in leaves)
