"""The synthetic population: credit subjects, their hidden risk, their relations.

Enterprises are drawn in fixed blocks of ``BLOCK`` so that any block can be rebuilt alone
(by another process, or by ``population``) from ``(seed, block number)``. Within a block
every per-enterprise draw is vectorized with numpy; only the strings are joined in Python.

Each enterprise has a hidden latent risk ``z``. The observable signals (tax grade, court
enforcement, penalties, arrears, abnormal operations, guarantee exposure) are drawn from
``z`` with noise, and the 12-month default outcome from the signals, from ``z``, from
the distress of related enterprises (risk travels within a group that shares a legal
representative, a shareholding or a guarantee) and from more noise: a good rating finds
much of it, a perfect one cannot.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

import numpy as np

from xinyidai.registry import codes, creditcode
from xinyidai.registry.models import SubjectKind
from xinyidai.synth import vocabulary as words
from xinyidai.synth.randomness import affine_permutation, stream

PROVINCE_PREFIX = "64"
AS_OF = date(2025, 12, 31)  # the day the feeds describe; defaults are drawn for the year after
AS_OF_DAY = AS_OF.toordinal()
BLOCK = 10_000
RATED_YEAR = AS_OF.year - 1  # tax credit grades of a year are published the next spring

KIND_DIGITS = {1: SubjectKind.ENTERPRISE, 2: SubjectKind.INDIVIDUAL, 3: SubjectKind.COOPERATIVE}
KIND_SHARES = (0.60, 0.36, 0.04)  # 91 enterprises, 92 individual businesses, 93 cooperatives
TAX_GRADES = ("A", "B", "M", "C", "D")
NO_GRADE = -1

# Section weights (GB/T 4754 letters) per kind of subject; absent sections are skipped.
SECTION_WEIGHTS: dict[int, dict[str, float]] = {
    1: {
        "F": 30,
        "A": 8,
        "C": 10,
        "E": 10,
        "L": 7,
        "M": 5,
        "G": 5,
        "I": 4,
        "K": 3,
        "H": 4,
        "O": 3,
        "D": 2,
        "N": 2,
        "R": 2,
        "B": 1,
        "P": 1,
        "Q": 1,
        "J": 1,
    },
    2: {"F": 50, "H": 20, "O": 15, "A": 5, "G": 4, "C": 2},
    3: {"A": 95, "F": 3, "C": 2},
}
OTHER_SECTION_WEIGHT = 0.5

_CODE_SPACE = 10**8  # subject identifiers: 8 digits (older) or MA + 6 characters (newer)
_BASE31 = np.array(list(creditcode.ALPHABET))


@dataclass(frozen=True, slots=True)
class SynthSignals:
    """What the departments' feeds reveal about one enterprise, and the hidden part."""

    tax_grade: str | None
    enforcement_cases: int
    dishonest_debtor: bool
    penalties: int
    abnormal_operation: bool
    social_insurance_arrears_months: int
    utility_arrears_months: int
    guarantee_exposure: float  # amounts guaranteed for others / registered capital
    in_guarantee_circle: bool
    distressed: bool  # under enforcement, a dishonest debtor or listed as abnormal
    distressed_associates: int  # related enterprises (see ``associates``) that are distressed
    latent_risk: float  # never in any feed


@dataclass(frozen=True, slots=True)
class SynthEnterprise:
    """A clean master record of one synthetic credit subject."""

    credit_code: str
    name: str
    kind: str
    region_code: str
    industry_code: str
    legal_representative: str
    registered_capital: Decimal
    established_on: date
    address: str
    phone: str
    employees: int
    signals: SynthSignals
    default_probability: float
    defaulted: bool


@dataclass(frozen=True)
class Geography:
    """Counties and industries of the generated region, with their draw weights."""

    province_code: str
    province_name: str
    province_short: str
    counties: list[codes.Code]
    county_p: np.ndarray
    prefecture_names: list[str]
    industries: list[codes.Code]
    industry_sections: list[str]
    industry_p: dict[int, np.ndarray]


def short_place_name(name: str) -> str:
    """银川市 -> 银川, 宁夏回族自治区 -> 宁夏: the form used at the front of trade names."""
    for suffix in ("回族自治区", "维吾尔自治区", "壮族自治区", "自治区", "省", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=4)
def geography(province_prefix: str = PROVINCE_PREFIX) -> Geography:
    """Counties of the province (GB/T 2260) and leaf industries (GB/T 4754) with weights."""
    counties = sorted(codes.counties_of(province_prefix), key=lambda item: item.code)
    if not counties:
        raise ValueError(f"no county-level region codes known for province {province_prefix}")
    province = codes.region(province_prefix + "0000")
    province_name = province.name if province else province_prefix
    weights = np.array(
        [
            (2.0 if county.name.endswith("区") else 1.0)
            * (2.0 if county.code[2:4] == "01" else 1.0)
            for county in counties
        ]
    )
    prefectures = []
    for county in counties:
        path = codes.region_path(county.code)
        prefecture = next((item for item in path if item.level == "prefecture"), None)
        prefectures.append(prefecture.name if prefecture else "")
    leaves = sorted(codes.leaf_industries(), key=lambda item: item.code)
    if not leaves:
        raise ValueError("no industry codes known")
    sections = []
    for leaf in leaves:
        section = codes.industry_section(leaf.code)
        sections.append(section.code if section else "")
    per_section = {letter: sections.count(letter) for letter in set(sections)}
    industry_p = {}
    for digit, table in SECTION_WEIGHTS.items():
        raw = np.array(
            [table.get(s, OTHER_SECTION_WEIGHT) / per_section[s] for s in sections], dtype=float
        )
        industry_p[digit] = raw / raw.sum()
    return Geography(
        province_code=province_prefix + "0000",
        province_name=province_name,
        province_short=short_place_name(province_name),
        counties=counties,
        county_p=weights / weights.sum(),
        prefecture_names=prefectures,
        industries=leaves,
        industry_sections=sections,
        industry_p=industry_p,
    )


@dataclass
class Block:
    """One block of enterprises as parallel arrays and lists (index ``i`` is one subject)."""

    number: int
    start: int
    kind: np.ndarray  # 1, 2, 3: the second digit of the credit code
    county: np.ndarray  # index into Geography.counties
    industry: np.ndarray  # index into Geography.industries
    established: np.ndarray  # date ordinals
    capital_fen: np.ndarray
    employees: np.ndarray
    latent: np.ndarray
    credit_code: list[str]
    name: list[str]
    trade_name: list[str]
    form: np.ndarray  # index into words.ENTERPRISE_FORMS (enterprises only)
    representative: list[str]
    person: np.ndarray  # who the legal representative is: subjects sharing one share a value
    address: list[str]
    phone: list[str]
    tax_grade: np.ndarray  # index into TAX_GRADES or NO_GRADE
    enforcement: np.ndarray
    dishonest: np.ndarray
    penalties: np.ndarray
    abnormal: np.ndarray
    si_insured: np.ndarray
    si_arrears: np.ndarray
    utility_arrears: np.ndarray
    exposure: np.ndarray
    circle: np.ndarray
    distressed_associates: np.ndarray
    default_p: np.ndarray
    defaulted: np.ndarray
    # relations: shareholders (one row per holding) and guarantees (one row per contract)
    sh_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sh_name: list[str] = field(default_factory=list)
    sh_corporate: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    sh_code: list[str] = field(default_factory=list)
    sh_investor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sh_ratio_bp: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    g_guarantor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    g_borrower: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    g_circle: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.credit_code)


MAX_ENTERPRISES = _CODE_SPACE  # credit codes stay unique up to here


def check_size(enterprises: int, *, minimum: int) -> None:
    """Refuse sizes the generator cannot serve (unique codes end at ``MAX_ENTERPRISES``)."""
    if not minimum <= enterprises <= MAX_ENTERPRISES:
        raise ValueError(f"enterprises must be from {minimum} to {MAX_ENTERPRISES:,}")


def blocks_of(enterprises: int) -> list[tuple[int, int, int]]:
    """(block number, first index, end index) covering ``enterprises`` subjects."""
    return [
        (number, start, min(enterprises, start + BLOCK))
        for number, start in enumerate(range(0, enterprises, BLOCK))
    ]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float))), dtype=float)


def _person_names(rng: np.random.Generator, n: int) -> list[str]:
    surnames = [s for s, _ in words.SURNAMES]
    weights = np.array([w for _, w in words.SURNAMES])
    first = rng.choice(len(surnames), n, p=weights / weights.sum())
    given = rng.integers(0, len(words.GIVEN_NAME_CHARS), (n, 2))
    two = rng.random(n) < 0.7
    chars = words.GIVEN_NAME_CHARS
    return [
        surnames[f] + chars[g[0]] + (chars[g[1]] if t else "")
        for f, g, t in zip(first.tolist(), given.tolist(), two.tolist(), strict=True)
    ]


def _subject_codes(
    seed: int, start: int, kind: np.ndarray, county_codes: list[str], established: np.ndarray
) -> list[str]:
    """Unique credit codes whose 9-character subject identifier carries a GB 11714 check."""
    a, b = affine_permutation(seed, "credit_code", _CODE_SPACE)
    index = np.arange(start, start + len(kind), dtype=np.int64)
    unique = (index * a + b) % _CODE_SPACE  # int64 is wide enough: a, index < 2**32
    newer = established >= date(2016, 1, 1).toordinal()
    powers = 31 ** np.arange(5, -1, -1, dtype=np.int64)
    digits31 = _BASE31[(unique[:, None] // powers) % 31]
    result = []
    for u, new, d31, k, county in zip(
        unique.tolist(), newer.tolist(), digits31, kind.tolist(), county_codes, strict=True
    ):
        body = "MA" + "".join(d31) if new else f"{u:08d}"
        subject = body + creditcode.organization_check_character(body)
        result.append(creditcode.make(f"9{k}{county}{subject}"))
    return result


def _trade_names(seed: int, start: int, n: int) -> list[str]:
    """Three-character trade names (字号), unique per enterprise up to len(chars)**3."""
    chars = words.TRADE_NAME_CHARS
    size = len(chars)
    modulus = size**3
    a, b = affine_permutation(seed, "trade_name", modulus)
    index = np.arange(start, start + n, dtype=np.int64)
    unique = (index % modulus * a + b) % modulus
    lap = index // modulus  # beyond the unique range a fourth character keeps names apart
    return [
        chars[u // size**2]
        + chars[u // size % size]
        + chars[u % size]
        + (chars[w % size] if w else "")
        for u, w in zip(unique.tolist(), lap.tolist(), strict=True)
    ]


def build_block(seed: int, number: int, start: int, stop: int) -> Block:
    """Draw enterprises ``start`` to ``stop`` (one block) with their signals and relations."""
    geo = geography()
    rng = stream(seed, "population", number)
    n = stop - start
    kind = rng.choice(np.array([1, 2, 3]), n, p=KIND_SHARES)
    county = rng.choice(len(geo.counties), n, p=geo.county_p)
    industry = np.zeros(n, dtype=np.int64)
    for digit in (1, 2, 3):
        mask = kind == digit
        industry[mask] = rng.choice(len(geo.industries), int(mask.sum()), p=geo.industry_p[digit])
    scale = np.where(kind == 1, 7.0, np.where(kind == 2, 4.0, 5.0)) * 365
    age_days = np.minimum(rng.exponential(scale), 30 * 365).astype(np.int64) + 30
    established = AS_OF_DAY - age_days
    median = np.where(kind == 1, 1_000_000.0, np.where(kind == 2, 50_000.0, 1_000_000.0))
    spread = np.where(kind == 1, 1.3, np.where(kind == 2, 1.0, 0.9))
    step = np.where(kind == 2, 1_000, 10_000)
    capital = np.clip(rng.lognormal(np.log(median), spread), step, 5e9)
    capital_fen = (np.round(capital / step) * step * 100).astype(np.int64)
    employees = np.where(
        kind == 1,
        np.round(rng.lognormal(np.log(8), 1.2, n)),
        np.where(kind == 2, rng.integers(0, 6, n), rng.integers(3, 31, n)),
    ).astype(np.int64)
    latent = rng.standard_normal(n)
    young = age_days < 2 * 365

    county_codes = [geo.counties[c].code for c in county.tolist()]
    credit_code = _subject_codes(seed, start, kind, county_codes, established)
    trade = _trade_names(seed, start, n)
    form_w = np.array([w for _, _, w in words.ENTERPRISE_FORMS])
    form = rng.choice(len(words.ENTERPRISE_FORMS), n, p=form_w / form_w.sum())
    place_pick = rng.random(n)
    word_pick = rng.integers(0, 1 << 30, n)
    names = []
    for i in range(n):
        c = int(county[i])
        section = geo.industry_sections[int(industry[i])]
        county_name = geo.counties[c].name
        pick = int(word_pick[i])
        if kind[i] == 1:
            pool = words.ENTERPRISE_WORDS.get(section, words.DEFAULT_ENTERPRISE_WORDS)
            p = place_pick[i]
            place = (
                geo.province_short
                if p < 0.3
                else short_place_name(geo.prefecture_names[c])
                if p < 0.75
                else county_name
            )
            names.append(
                place + trade[i] + pool[pick % len(pool)] + words.ENTERPRISE_FORMS[form[i]][0]
            )
        elif kind[i] == 2:
            pool = words.SHOP_WORDS.get(section, words.DEFAULT_SHOP_WORDS)
            names.append(county_name + trade[i] + pool[pick % len(pool)])
        else:
            product = words.COOPERATIVE_PRODUCTS[pick % len(words.COOPERATIVE_PRODUCTS)]
            suffix = words.COOPERATIVE_SUFFIXES[(pick >> 8) % len(words.COOPERATIVE_SUFFIXES)]
            names.append(county_name + trade[i] + product + suffix)

    representative = _person_names(rng, n)
    person = np.arange(n)
    street = rng.integers(0, len(words.STREETS), n)
    number_on_street = rng.integers(1, 999, n)
    room = rng.integers(0, 3000, n)
    address = [
        geo.province_name
        + geo.prefecture_names[c]
        + geo.counties[c].name
        + words.STREETS[s]
        + f"{h}号"
        + (f"{r // 100 + 1}号楼{r % 100 + 101}室" if r < 2000 else "")
        for c, s, h, r in zip(
            county.tolist(), street.tolist(), number_on_street.tolist(), room.tolist(), strict=True
        )
    ]
    prefix = rng.integers(0, len(words.MOBILE_PREFIXES), n)
    tail = rng.integers(0, 10**8, n)
    phone = [
        words.MOBILE_PREFIXES[p] + f"{t:08d}"
        for p, t in zip(prefix.tolist(), tail.tolist(), strict=True)
    ]
    # Related parties: some subjects share a legal representative, an address, a phone.
    donor = rng.integers(0, n, n)
    share_rep = rng.random(n) < 0.06
    share_more = rng.random(n) < 0.5
    for i in np.flatnonzero(share_rep & (donor != np.arange(n))).tolist():
        d = int(donor[i])
        representative[i] = representative[d]
        person[i] = person[d]
        if share_more[i]:
            address[i] = address[d]
            phone[i] = phone[d]
    share_address = rng.random(n) < 0.02
    for i in np.flatnonzero(share_address).tolist():
        address[i] = address[int(donor[i])]

    # Observable signals, each drawn from the latent risk with its own noise.
    rated = (kind != 2) | (rng.random(n) < 0.25)
    score = -latent + 0.8 * rng.standard_normal(n)
    grade = np.full(n, 1)
    grade[score > 1.4] = 0
    grade[score < -1.5] = 3
    grade[score < -2.1] = 4
    grade[(grade == 1) & (rng.random(n) < 0.08)] = 2  # M: no business income in the year
    # The latest published evaluation covers RATED_YEAR: subjects new in it are M and
    # later ones have no grade yet.
    grade[established >= date(RATED_YEAR, 1, 1).toordinal()] = 2
    grade[established >= date(RATED_YEAR + 1, 1, 1).toordinal()] = NO_GRADE
    grade[~rated] = NO_GRADE
    enforced = rng.random(n) < _sigmoid(-4.0 + 1.1 * latent + 0.3 * rng.standard_normal(n))
    enforcement = np.where(enforced, 1 + rng.poisson(0.6, n), 0)
    dishonest = enforced & (rng.random(n) < _sigmoid(-1.2 + 0.8 * latent))
    penalties = rng.poisson(np.exp(-3.0 + 0.5 * latent + 0.3 * (kind == 1)))
    abnormal = (kind != 2) & (rng.random(n) < _sigmoid(-3.6 + 0.7 * latent + 0.8 * young))
    si_insured = (kind != 2) & (employees > 0) | ((kind == 2) & (rng.random(n) < 0.3))
    si_late = si_insured & (rng.random(n) < _sigmoid(-3.3 + 0.9 * latent))
    si_arrears = np.where(si_late, rng.integers(1, 13, n), 0)
    utility_late = rng.random(n) < _sigmoid(-3.0 + 0.8 * latent)
    utility_arrears = np.where(utility_late, rng.integers(1, 7, n), 0)

    block = Block(
        number=number,
        start=start,
        kind=kind,
        county=county,
        industry=industry,
        established=established,
        capital_fen=capital_fen,
        employees=employees,
        latent=latent,
        credit_code=credit_code,
        name=names,
        trade_name=trade,
        form=form,
        representative=representative,
        person=person,
        address=address,
        phone=phone,
        tax_grade=grade,
        enforcement=enforcement,
        dishonest=dishonest,
        penalties=penalties,
        abnormal=abnormal,
        si_insured=si_insured,
        si_arrears=si_arrears,
        utility_arrears=utility_arrears,
        exposure=np.zeros(n),
        circle=np.zeros(n, dtype=bool),
        distressed_associates=np.zeros(n, dtype=np.int64),
        default_p=np.zeros(n),
        defaulted=np.zeros(n, dtype=bool),
    )
    _draw_shareholders(block, rng)
    _draw_guarantees(block, rng)
    block.distressed_associates = _distressed_associates(block)
    _draw_defaults(block, rng, young)
    return block


def _draw_shareholders(block: Block, rng: np.random.Generator) -> None:
    """Enterprises (91) hold 1-4 shareholders: the legal representative first, then others."""
    owners = np.flatnonzero(block.kind == 1)
    if not len(owners):  # a tiny region may hold only individual businesses
        return
    counts = 1 + rng.binomial(3, 0.3, len(owners))
    sh_owner = np.repeat(owners, counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    first = np.zeros(len(sh_owner), dtype=bool)
    first[starts] = True
    corporate = ~first & (rng.random(len(sh_owner)) < 0.12)
    investor = rng.choice(owners, len(sh_owner))
    corporate &= investor != sh_owner
    others = _person_names(rng, len(sh_owner))
    weight = np.where(first, rng.gamma(3.0, size=len(sh_owner)), rng.gamma(1.0, size=len(sh_owner)))
    totals = np.add.reduceat(weight, starts)
    ratio = np.floor(weight / np.repeat(totals, counts) * 10_000).astype(np.int64)
    ratio[starts] += 10_000 - np.add.reduceat(ratio, starts)  # basis points add up exactly
    block.sh_owner = sh_owner
    block.sh_corporate = corporate
    block.sh_investor = np.where(corporate, investor, -1).astype(np.int64)
    block.sh_ratio_bp = ratio
    block.sh_name = [
        block.name[int(inv)] if corp else (block.representative[int(own)] if is_first else other)
        for own, inv, corp, is_first, other in zip(
            sh_owner.tolist(),
            investor.tolist(),
            corporate.tolist(),
            first.tolist(),
            others,
            strict=True,
        )
    ]
    block.sh_code = [
        block.credit_code[int(inv)] if corp else ""
        for inv, corp in zip(investor.tolist(), corporate.tolist(), strict=True)
    ]


def _draw_guarantees(block: Block, rng: np.random.Generator) -> None:
    """Guarantee chains (A guarantees B guarantees C) and a few circles (... C guarantees A)."""
    candidates = np.flatnonzero((block.kind == 1) | (block.kind == 3))
    guarantor: list[int] = []
    borrower: list[int] = []
    circle: list[bool] = []
    if len(candidates) >= 6:
        chains = max(1, round(0.025 * len(candidates)))
        circles = max(1, round(0.002 * len(candidates)))
        lengths = rng.integers(2, 6, chains + circles)
        for number, length in enumerate(lengths.tolist()):
            nodes = rng.choice(candidates, length, replace=False).tolist()
            closed = number >= chains
            if closed:
                nodes.append(nodes[0])
            for g, b in itertools.pairwise(nodes):
                guarantor.append(g)
                borrower.append(b)
                circle.append(closed)
    block.g_guarantor = np.array(guarantor, dtype=np.int64)
    block.g_borrower = np.array(borrower, dtype=np.int64)
    block.g_circle = np.array(circle, dtype=bool)
    n = len(block)
    if guarantor:
        exposure_fen = np.zeros(n)
        # contract amounts are drawn by the guarantee feed from the same stream; exposure
        # counts guaranteed principal as a multiple of the borrower's capital
        np.add.at(exposure_fen, block.g_guarantor, block.capital_fen[block.g_borrower] * 0.8)
        block.exposure = exposure_fen / np.maximum(block.capital_fen, 1)
        in_circle = np.zeros(n, dtype=bool)
        in_circle[block.g_guarantor[block.g_circle]] = True
        block.circle = in_circle


def distressed(block: Block) -> np.ndarray:
    """Subjects in visible distress: under court enforcement, on the dishonest-debtor list
    or on the abnormal-operations list (what association analysis calls "bad")."""
    return np.asarray(block.dishonest | (block.enforcement > 0) | block.abnormal, dtype=bool)


def associates(block: Block) -> np.ndarray:
    """Pairs (i, j), both ways, of related subjects of the block: the same legal
    representative (the same person, not merely the same name), one holding shares of the
    other, one guaranteeing a debt of the other."""
    corporate = block.sh_corporate
    pairs = [
        np.column_stack((block.g_guarantor, block.g_borrower)),
        np.column_stack((block.sh_owner[corporate], block.sh_investor[corporate])),
    ]
    order = np.argsort(block.person, kind="stable")
    _, starts, sizes = np.unique(block.person[order], return_index=True, return_counts=True)
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        group = order[start : start + size]
        pairs.append(np.array([(a, b) for a in group for b in group if a != b], dtype=np.int64))
    both = np.concatenate([p.reshape(-1, 2) for p in pairs] + [np.zeros((0, 2), np.int64)])
    both = np.concatenate((both, both[:, ::-1]))
    both = both[both[:, 0] != both[:, 1]]
    return np.unique(both, axis=0)


def _distressed_associates(block: Block) -> np.ndarray:
    """How many of each subject's related subjects are in distress."""
    pairs = associates(block)
    bad = distressed(block)
    return np.bincount(pairs[:, 0], weights=bad[pairs[:, 1]], minlength=len(block)).astype(np.int64)


# Logistic coefficients of the 12-month default; the intercept sets the base rate (~4-5%).
DEFAULT_INTERCEPT = -3.9
DEFAULT_COEFFICIENTS = {
    "grade_a": -0.8,
    "grade_c": 0.6,
    "grade_d": 1.3,
    "enforcement": 0.9,
    "dishonest": 0.8,
    "penalties": 0.25,
    "abnormal": 0.6,
    "social_insurance_arrears": 0.6,
    "utility_arrears": 0.4,
    "young": 0.4,
    "guarantee_exposure": 0.5,
    "guarantee_circle": 0.6,
    "distressed_associate": 0.9,
    "latent": 0.6,
    "noise": 0.6,
}


def _draw_defaults(block: Block, rng: np.random.Generator, young: np.ndarray) -> None:
    c = DEFAULT_COEFFICIENTS
    g = block.tax_grade
    logit = (
        DEFAULT_INTERCEPT
        + c["grade_a"] * (g == 0)
        + c["grade_c"] * (g == 3)
        + c["grade_d"] * (g == 4)
        + c["enforcement"] * (block.enforcement > 0)
        + c["dishonest"] * block.dishonest
        + c["penalties"] * np.minimum(block.penalties, 3)
        + c["abnormal"] * block.abnormal
        + c["social_insurance_arrears"] * (block.si_arrears > 0)
        + c["utility_arrears"] * (block.utility_arrears > 0)
        + c["young"] * young
        + c["guarantee_exposure"] * (block.exposure > 1.0)
        + c["guarantee_circle"] * block.circle
        + c["distressed_associate"] * (block.distressed_associates > 0)
        + c["latent"] * block.latent
        + c["noise"] * rng.standard_normal(len(block))
    )
    block.default_p = _sigmoid(logit)
    block.defaulted = rng.random(len(block)) < block.default_p


def _record(block: Block, i: int) -> SynthEnterprise:
    geo = geography()
    grade = int(block.tax_grade[i])
    return SynthEnterprise(
        credit_code=block.credit_code[i],
        name=block.name[i],
        kind=KIND_DIGITS[int(block.kind[i])],
        region_code=geo.counties[int(block.county[i])].code,
        industry_code=geo.industries[int(block.industry[i])].code,
        legal_representative=block.representative[i],
        registered_capital=Decimal(int(block.capital_fen[i])).scaleb(-2),
        established_on=date.fromordinal(int(block.established[i])),
        address=block.address[i],
        phone=block.phone[i],
        employees=int(block.employees[i]),
        signals=SynthSignals(
            tax_grade=TAX_GRADES[grade] if grade != NO_GRADE else None,
            enforcement_cases=int(block.enforcement[i]),
            dishonest_debtor=bool(block.dishonest[i]),
            penalties=int(block.penalties[i]),
            abnormal_operation=bool(block.abnormal[i]),
            social_insurance_arrears_months=int(block.si_arrears[i]),
            utility_arrears_months=int(block.utility_arrears[i]),
            guarantee_exposure=round(float(block.exposure[i]), 4),
            in_guarantee_circle=bool(block.circle[i]),
            distressed=bool(block.dishonest[i] or block.enforcement[i] or block.abnormal[i]),
            distressed_associates=int(block.distressed_associates[i]),
            latent_risk=round(float(block.latent[i]), 6),
        ),
        default_probability=round(float(block.default_p[i]), 6),
        defaulted=bool(block.defaulted[i]),
    )


def population(*, enterprises: int, seed: int) -> Iterator[SynthEnterprise]:
    """The clean master records of a synthetic region, in a stable order."""
    check_size(enterprises, minimum=0)
    for number, start, stop in blocks_of(enterprises):
        block = build_block(seed, number, start, stop)
        for i in range(len(block)):
            yield _record(block, i)
