"""GB 32100-2015 unified social credit codes: parsing, reasons, the mod-31 check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyidai.registry import creditcode
from xinyidai.registry.creditcode import ALPHABET, AUTHORITIES, CreditCodeError

REAL_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "9144030071526726XG",
    "91330100716105852F",
    "91110000802100433B",
    "91110108551385082Q",
]


def reason_of(raw: str) -> CreditCodeError:
    with pytest.raises(CreditCodeError) as caught:
        creditcode.parse(raw)
    return caught.value


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    parsed = creditcode.parse(code)
    assert parsed.code == code
    assert creditcode.is_valid(code)
    assert creditcode.check_character(code[:17]) == code[17]
    assert creditcode.make(code[:17]) == code


def test_parts_of_a_code_are_exposed() -> None:
    parsed = creditcode.parse("91350100M000100Y43")
    assert parsed.authority == "9"
    assert parsed.organization_type == "1"
    assert parsed.region_code == "350100"
    assert parsed.organization_code == "M000100Y4"
    assert parsed.is_enterprise
    assert not parsed.is_individual_business
    assert str(parsed) == "91350100M000100Y43"


def test_weights_are_powers_of_three_as_in_the_standard() -> None:
    assert creditcode.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_lower_case_and_spaces_are_folded_and_accepted() -> None:
    assert creditcode.parse(" 9144030071526726xg ").code == "9144030071526726XG"
    assert creditcode.parse("9135 0100 m000 100y43").code == "91350100M000100Y43"


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_code_is_refused(raw: str) -> None:
    error = reason_of(raw)
    assert error.reason == "credit code is empty"


@pytest.mark.parametrize("raw", ["9135010", "91350100M000100Y4", "91350100M000100Y433"])
def test_wrong_length_is_refused_with_the_length(raw: str) -> None:
    error = reason_of(raw)
    assert error.reason == "credit code must have 18 characters, got {length}"
    assert error.params == {"length": len(raw)}


def test_text_that_is_not_a_string_is_refused() -> None:
    error = reason_of(91350100)  # type: ignore[arg-type]
    assert error.reason == "a credit code must be text"


@pytest.mark.parametrize("char", ["I", "O", "S", "V", "Z", "-", "*"])
def test_forbidden_character_is_refused_and_named(char: str) -> None:
    raw = "91350100M0" + char + "0100Y43"
    error = reason_of(raw)
    assert error.reason == "credit code contains a character not allowed by GB 32100: {char}"
    assert error.params == {"char": char}


def test_unknown_registration_authority_is_refused() -> None:
    raw = creditcode.make("B1350100M000100Y4")
    error = reason_of(raw)
    assert error.reason == "unknown registration authority code {char}"
    assert error.params == {"char": "B"}


def test_organization_type_not_issued_by_the_authority_is_refused() -> None:
    raw = creditcode.make("94350100M000100Y4")
    error = reason_of(raw)
    assert error.reason == "organization type {kind} is not issued by authority {authority}"
    assert error.params == {"kind": "4", "authority": "9"}


def test_non_digit_region_is_refused() -> None:
    raw = creditcode.make("9135A100M000100Y4")
    error = reason_of(raw)
    assert error.reason == "the region part of a credit code must be six digits"


def test_wrong_check_character_names_the_expected_one() -> None:
    error = reason_of("91350100M000100Y44")
    assert error.reason == "wrong check character: expected {expected}, got {actual}"
    assert error.params == {"expected": "3", "actual": "4"}
    assert "expected 3, got 4" in str(error)
    assert not creditcode.is_valid("91350100M000100Y44")


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_substitution_of_a_real_code_is_refused(code: str) -> None:
    for position in range(18):
        for char in ALPHABET:
            if char == code[position]:
                continue
            changed = code[:position] + char + code[position + 1 :]
            assert not creditcode.is_valid(changed), (position, char)


def test_organization_check_character_of_gb_11714() -> None:
    # 91110000802100433B: organization code 80210043-3
    assert creditcode.organization_check_character("80210043") == "3"
    # 914403001922038216: organization code 19220382-1
    assert creditcode.organization_check_character("19220382") == "1"


ISSUED = [(authority, kind) for authority, (_, kinds) in AUTHORITIES.items() for kind in kinds]


@st.composite
def prefixes(draw: st.DrawFn) -> str:
    authority, kind = draw(st.sampled_from(ISSUED))
    region = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    subject = draw(st.text(alphabet=ALPHABET, min_size=9, max_size=9))
    return authority + kind + region + subject


@given(prefixes())
def test_make_always_completes_a_valid_code(prefix: str) -> None:
    code = creditcode.make(prefix)
    assert len(code) == 18
    assert code[:17] == prefix
    assert creditcode.parse(code).code == code


@given(prefixes(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_changing_any_one_character_makes_a_code_invalid(
    prefix: str, position: int, shift: int
) -> None:
    code = creditcode.make(prefix)
    char = ALPHABET[(ALPHABET.index(code[position]) + shift) % len(ALPHABET)]
    changed = code[:position] + char + code[position + 1 :]
    assert changed != code
    assert not creditcode.is_valid(changed)


@given(prefixes(), st.integers(min_value=8, max_value=17), st.integers(min_value=1, max_value=30))
def test_a_changed_subject_or_check_character_is_caught_by_the_check(
    prefix: str, position: int, shift: int
) -> None:
    # Positions 8-17 take any alphabet character, so only the mod-31 check can catch it.
    code = creditcode.make(prefix)
    char = ALPHABET[(ALPHABET.index(code[position]) + shift) % len(ALPHABET)]
    changed = code[:position] + char + code[position + 1 :]
    with pytest.raises(CreditCodeError) as caught:
        creditcode.parse(changed)
    assert caught.value.reason.startswith("wrong check character")
    assert caught.value.params["expected"] == creditcode.check_character(changed[:17])


# Codes near valid ones: valid codes, each with up to three characters changed (any
# character, not only the alphabet's), cut short or made longer.
_SEVENTEEN = st.text(alphabet=ALPHABET, min_size=17, max_size=17)
_NEAR = st.builds(
    lambda prefix, changes, cut: _changed(creditcode.make(prefix), changes, cut),
    st.sampled_from([a + t for a, (_, kinds) in AUTHORITIES.items() for t in kinds]).flatmap(
        lambda pair: st.builds(lambda rest: pair + rest, _SEVENTEEN.map(lambda s: s[:15]))
    ),
    st.lists(
        st.tuples(st.integers(0, 17), st.characters(codec=None) | st.sampled_from(ALPHABET)),
        max_size=3,
    ),
    st.integers(-2, 2),
)


def _changed(code: str, changes: list[tuple[int, str]], cut: int) -> str:
    chars = list(code)
    for position, char in changes:
        chars[position] = char
    changed = "".join(chars)
    return changed[: 18 + cut] if cut < 0 else changed + "7" * cut


@given(st.lists(_NEAR | st.text(max_size=20), max_size=40))
def test_many_codes_checked_at_once_are_judged_as_one_by_one(codes: list[str]) -> None:
    normalized = [creditcode.normalize(code) for code in codes]
    assert creditcode.valid_many(normalized) == [creditcode.is_valid(c) for c in normalized]
