"""How two enterprises are linked: the kinds of link and the keys records are matched on.

Pure functions over the data of credit records (no database). The region analysis, the
index of keys and the neighbourhood query all derive links through these, so they agree.

A person is never identified by name alone: a legal representative or a natural-person
shareholder is matched on *name + county* (the GB/T 2260 code of the enterprise's
registration), and the link kind says so (``representative``, ``common_shareholder``).
Two people of the same name in one county are still one key: these links are leads for
a human, not proof. Enterprises are matched on their credit codes (shareholdings,
guarantees), addresses on a normalized form, phones on their digits.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyidai.catalog.fields import stored_date
from xinyidai.registry import creditcode

REGISTRATION = "registration"
SHAREHOLDER = "shareholder"
GUARANTEE_CATEGORY = "guarantee"
LINK_CATEGORIES = (REGISTRATION, SHAREHOLDER, GUARANTEE_CATEGORY)

# Link kinds as the API and the portal name them.
REPRESENTATIVE = "representative"  # the same legal representative: name + county
COMMON_SHAREHOLDER = "common_shareholder"  # the same natural-person shareholder: name + county
SHAREHOLDING = "shareholding"  # one enterprise holds shares of the other (credit code)
ADDRESS = "address"  # the same registered address, normalized
PHONE = "phone"  # the same contact phone
GUARANTEE = "guarantee"  # one guarantees a debt of the other (credit codes)
LINK_KINDS = (REPRESENTATIVE, COMMON_SHAREHOLDER, SHAREHOLDING, ADDRESS, PHONE, GUARANTEE)
SHARED_KINDS = (REPRESENTATIVE, COMMON_SHAREHOLDER, ADDRESS, PHONE)
DIRECTED_KINDS = (SHAREHOLDING, GUARANTEE)

# How each kind matches, said with the link so that nobody reads a name match as identity.
BASIS = {
    REPRESENTATIVE: "name+county",
    COMMON_SHAREHOLDER: "name+county",
    SHAREHOLDING: "credit_code",
    ADDRESS: "normalized_address",
    PHONE: "phone_number",
    GUARANTEE: "credit_code",
}

# Index key kinds beyond the shared ones: whose shares does an enterprise hold, whose debts
# does it guarantee. A row (HOLDER, H, E) says H holds shares of E; (BORROWER, B, G) says
# G guarantees B. Each row is derived from the records of its own enterprise (E, G).
HOLDER = "holder"
BORROWER = "borrower"
INDEX_KINDS = (*SHARED_KINDS, HOLDER, BORROWER)

# A key shared by more enterprises than this is a hub (a registration agent's address or
# phone, a very common name): it links nobody, it is only counted.
MAX_GROUP = 30

# Guarantee states that end the guarantor's liability (担保状态).
RELEASED_STATUSES = frozenset(
    {
        "已解除",
        "解除",
        "已结清",
        "结清",
        "已终止",
        "终止",
        "已履行",
        "履行完毕",
        "已撤销",
        "released",
    }
)

_SPACES = re.compile(r"\s+")
_ADDRESS_NOISE = re.compile(r"[\s,，.。、;；:：'\"“”‘’()（）\[\]【】{}<>《》#＃\-—–_/\\|]+")
_NAME_DOTS = re.compile(r"[•・．.‧∙·]")
_DIGITS = re.compile(r"\d")


def _nfkc(value: Any) -> str:
    """Full-width letters, digits and punctuation as their ordinary forms."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalize_address(value: Any) -> str | None:
    """An address as matched: NFKC, no spaces or punctuation, Latin letters upper-case.

    An address without a number (a street number, a room) names a district or a street,
    not a place: it links nobody and gives None.
    """
    if value is None:
        return None
    text = _ADDRESS_NOISE.sub("", _nfkc(value)).upper()
    if len(text) < 6 or not _DIGITS.search(text):
        return None
    return text


def normalize_phone(value: Any) -> str | None:
    """A phone number as matched: its digits, without the +86 country code."""
    if value is None:
        return None
    digits = "".join(ch for ch in _nfkc(value) if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not 7 <= len(digits) <= 12:
        return None
    return digits


def normalize_person(value: Any) -> str | None:
    """A person's name as matched: NFKC, no spaces, one kind of middle dot (买买提·艾力)."""
    if value is None:
        return None
    text = _NAME_DOTS.sub("·", _SPACES.sub("", _nfkc(value)))
    return text if len(text) >= 2 else None


def county_of(credit_code: str, region_code: Any) -> str:
    """The county a subject is registered in: its registration's code, else its credit
    code's (characters 3-8 are the registering authority's GB/T 2260 code)."""
    text = str(region_code or "")
    if len(text) == 6 and text.isdigit():
        return text
    return credit_code[2:8]


def key_of(kind: str, text: str) -> str:
    """The stored key of a matched value: a digest, so the index holds no names or phones."""
    return hashlib.sha256(f"{kind}\x1f{text}".encode()).hexdigest()[:32]


def _code(value: Any) -> str | None:
    """A valid credit code, or None."""
    if not value:
        return None
    try:
        return creditcode.parse(str(value)).code
    except creditcode.CreditCodeError:
        return None


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


@dataclass(frozen=True, slots=True)
class PersonHolding:
    """A natural person holding shares of an enterprise."""

    name: str
    share_ratio: str | None


@dataclass(frozen=True, slots=True)
class CorporateHolding:
    """An enterprise (by credit code) holding shares of another."""

    holder: str
    holder_name: str | None
    share_ratio: str | None


@dataclass(frozen=True, slots=True)
class Guarantee:
    """One guarantee contract: the guarantor stands for a debt of the borrower."""

    guarantor: str
    borrower: str
    borrower_name: str | None
    contract: str
    amount: Decimal
    status: str | None
    start_on: date | None
    end_on: date | None

    @property
    def in_force(self) -> bool:
        return (self.status or "").strip() not in RELEASED_STATUSES


@dataclass(slots=True)
class SubjectLinks:
    """What one enterprise's own records say about its relations."""

    code: str
    name: str | None = None
    region: str | None = None
    representative: str | None = None
    address: str | None = None
    phone: str | None = None
    persons: list[PersonHolding] = field(default_factory=list)
    holders: list[CorporateHolding] = field(default_factory=list)
    guarantees: list[Guarantee] = field(default_factory=list)

    @property
    def county(self) -> str:
        return county_of(self.code, self.region)

    def shared_values(self) -> dict[tuple[str, str], str]:
        """(kind, key) → the matched value, for every key this enterprise shares on."""
        values: dict[tuple[str, str], str] = {}
        county = self.county
        person = normalize_person(self.representative)
        if person:
            values[(REPRESENTATIVE, key_of(REPRESENTATIVE, f"{person}|{county}"))] = person
        for holding in self.persons:
            name = normalize_person(holding.name)
            if name:
                values[(COMMON_SHAREHOLDER, key_of(COMMON_SHAREHOLDER, f"{name}|{county}"))] = name
        address = normalize_address(self.address)
        if address:
            values[(ADDRESS, key_of(ADDRESS, address))] = address
        phone = normalize_phone(self.phone)
        if phone:
            values[(PHONE, key_of(PHONE, phone))] = phone
        return values

    def index_keys(self) -> set[tuple[str, str]]:
        """Every (kind, key) of this enterprise in the index of keys."""
        keys = set(self.shared_values())
        keys.update((HOLDER, h.holder) for h in self.holders if h.holder != self.code)
        keys.update((BORROWER, g.borrower) for g in self.guarantees if g.borrower != self.code)
        return keys


def collect(rows: Iterable[tuple[str, str, dict[str, Any], Any]]) -> dict[str, SubjectLinks]:
    """Each subject's links from the current data of its link-category records.

    ``rows`` are (subject code, category, data, event date); other categories are ignored.
    """
    subjects: dict[str, SubjectLinks] = {}
    for subject, category, data, _ in rows:
        links = subjects.get(subject)
        if links is None:
            links = subjects[subject] = SubjectLinks(code=subject)
        if category == REGISTRATION:
            links.name = data.get("enterprise_name") or links.name
            links.region = data.get("region_code")
            links.representative = data.get("legal_representative")
            links.address = data.get("address")
            links.phone = data.get("phone")
        elif category == SHAREHOLDER:
            links.name = links.name or data.get("enterprise_name")
            _holding(links, data)
        elif category == GUARANTEE_CATEGORY:
            links.name = links.name or data.get("enterprise_name")
            borrower = _code(data.get("borrower_code"))
            if borrower is None:
                continue
            links.guarantees.append(
                Guarantee(
                    guarantor=subject,
                    borrower=borrower,
                    borrower_name=data.get("borrower_name"),
                    contract=str(data.get("contract_number") or ""),
                    amount=_money(data.get("amount")),
                    status=data.get("status"),
                    start_on=stored_date(data.get("start_on")),
                    end_on=stored_date(data.get("end_on")),
                )
            )
    for links in subjects.values():
        links.guarantees.sort(key=lambda g: (g.borrower, g.contract))
        links.holders.sort(key=lambda h: h.holder)
    return subjects


def _holding(links: SubjectLinks, data: dict[str, Any]) -> None:
    """A shareholder record: an enterprise by credit code, else a natural person by name.

    Departments mark persons' identifiers as not public (非公示项); a shareholder whose
    identifier is a valid credit code is an enterprise whatever its type column says.
    """
    holder = _code(data.get("shareholder_code"))
    kind = str(data.get("shareholder_type") or "")
    ratio = data.get("share_ratio")
    name = data.get("shareholder_name")
    if holder is not None:
        links.holders.append(CorporateHolding(holder, name, None if ratio is None else str(ratio)))
    elif name and "企业" not in kind and "公司" not in kind and "法人" not in kind:
        links.persons.append(PersonHolding(str(name), None if ratio is None else str(ratio)))


# --------------------------------------------------------------------------- bad signals


@dataclass(frozen=True, slots=True)
class BadSignal:
    """A negative list or record that makes an enterprise "bad" for those linked to it."""

    category: str
    ended_by: tuple[str, ...] = ()  # fields that, once filled, say the listing has ended
    closed_values: frozenset[str] = frozenset()  # status values that say the case is over
    status_field: str = "status"

    def holds(self, data: dict[str, Any]) -> bool:
        if any(data.get(name) for name in self.ended_by):
            return False
        status = str(data.get(self.status_field) or "").strip()
        return status not in self.closed_values


BAD_SIGNALS: dict[str, BadSignal] = {
    signal.category: signal
    for signal in (
        BadSignal("dishonest_debtor"),
        BadSignal(
            "court_enforcement",
            closed_values=frozenset({"已结案", "结案", "执行完毕", "已执行完毕"}),
        ),
        BadSignal("abnormal_operation", ended_by=("removed_on",)),
        BadSignal("serious_dishonesty", ended_by=("removed_on",)),
        BadSignal("black_list", ended_by=("removed_on",)),
    )
}
BAD_CATEGORIES = tuple(BAD_SIGNALS)


def bad_signals(
    rows: Iterable[tuple[str, str, dict[str, Any], Any]],
) -> dict[str, dict[str, date | None]]:
    """Subject → the bad-signal categories its current records show, each with the date of
    its latest such record (when it last turned bad that way; None when undated)."""
    found: dict[str, dict[str, date | None]] = {}
    for subject, category, data, event_on in rows:
        signal = BAD_SIGNALS.get(category)
        if signal is None or not signal.holds(data):
            continue
        dates = found.setdefault(subject, {})
        known = dates.get(category)
        dates[category] = event_on if known is None else max(known, event_on or known)
    return found


# ------------------------------------------------------------------------ links between


@dataclass(frozen=True, slots=True)
class Link:
    """One link between two enterprises; ``source`` → ``target`` for directed kinds
    (holder → held, guarantor → borrower), the smaller code first otherwise."""

    source: str
    target: str
    kind: str
    detail: dict[str, Any]


def guarantee_detail(contracts: list[Guarantee]) -> dict[str, Any]:
    """What one guarantor → borrower link shows: the amount in force and every contract."""
    in_force = [g for g in contracts if g.in_force]
    return {
        "basis": BASIS[GUARANTEE],
        "amount": str(sum((g.amount for g in in_force), Decimal("0.00"))),
        "contracts": [g.contract for g in contracts],
        "in_force": bool(in_force),
        "status": sorted({g.status for g in contracts if g.status}),
    }


def links_among(
    subjects: dict[str, SubjectLinks],
    *,
    hubs: AbstractSet[tuple[str, str]] = frozenset(),
    max_group: int = MAX_GROUP,
) -> list[Link]:
    """Every link between the enterprises of ``subjects`` (both ends among them).

    Shared keys in ``hubs``, or shared by more than ``max_group`` of them, link nobody.
    """
    links: list[Link] = []
    # Most keys belong to one enterprise: remember the first holder, list only the shared.
    first_holder: dict[tuple[str, str], str] = {}
    shared: dict[tuple[str, str], list[str]] = {}
    for code in sorted(subjects):
        for key in subjects[code].shared_values():
            holder = first_holder.setdefault(key, code)
            if holder != code:
                shared.setdefault(key, [holder]).append(code)
    del first_holder
    for key, members in shared.items():
        if len(members) > max_group or key in hubs:
            continue
        kind = key[0]
        value = subjects[members[0]].shared_values()[key]
        detail: dict[str, Any] = {"basis": BASIS[kind], "value": value}
        if kind in (REPRESENTATIVE, COMMON_SHAREHOLDER):
            detail["county"] = subjects[members[0]].county
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                links.append(Link(first, second, kind, detail))
    for code in sorted(subjects):
        links_of = subjects[code]
        for holding in links_of.holders:
            if holding.holder in subjects and holding.holder != code:
                held = {"basis": BASIS[SHAREHOLDING], "share_ratio": holding.share_ratio}
                links.append(Link(holding.holder, code, SHAREHOLDING, held))
        by_borrower: dict[str, list[Guarantee]] = {}
        for guarantee in links_of.guarantees:
            if guarantee.borrower in subjects and guarantee.borrower != code:
                by_borrower.setdefault(guarantee.borrower, []).append(guarantee)
        for borrower, contracts in sorted(by_borrower.items()):
            links.append(Link(code, borrower, GUARANTEE, guarantee_detail(contracts)))
    return links
