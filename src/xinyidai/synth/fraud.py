"""Applications on the platform with planted fraud, and the truth about them.

Each block draws its applicants among its enterprises (``APPLICANT_SHARE``) over
``DAYS`` days from ``START`` and plants fraud by pattern, each as a fraudster would leave
it in the data:

- ``shared_phone``: a ring of 3–6 enterprises that moved to one new contact phone shortly
  before all of them applied, within a week;
- ``shared_address``: a ring of 10–13 enterprises registered at one agent's address (an
  association hub) shortly before applying;
- ``many_institutions``: one enterprise applying to 4–5 institutions within hours;
- ``recent_change``: a shell taken over — its legal representative changed 3–45 days
  before it applied;
- ``young_large``: an enterprise less than a year old asking 1.2–2.9 million yuan;
- ``no_trace``: fraud that leaves nothing the rules read (a borrowed identity, forged
  statements), an applicant like any honest one: what no rule can catch.

The honest applicants carry the noise real books have: some apply to two institutions in
a day (a few to three), some moved their address in the last quarter, the young ones ask
what they ask, and the region's own shared representatives and addresses stay as drawn.

Written: ``platform/applications.csv`` (application, credit code, institution number 1–6,
submission time in UTC, amount), ``platform/registration_changes.csv`` (credit code, time
of the change, field, new value; to be stored as new registration versions at that time)
and ``truth/fraud.csv`` (every applicant: fraudulent 0/1, pattern, ring).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from xinyidai.synth.enterprises import AS_OF, AS_OF_DAY, Block
from xinyidai.synth.randomness import stream

APPLICATION_HEADERS = ["application", "credit_code", "institution", "submitted_at", "amount"]
CHANGE_HEADERS = ["credit_code", "changed_at", "field", "value"]
TRUTH_HEADERS = ["credit_code", "fraudulent", "pattern", "ring"]
INSTITUTIONS = 6
START = datetime.combine(AS_OF + timedelta(days=10), datetime.min.time(), tzinfo=UTC)
DAYS = 60
APPLICANT_SHARE = 0.12
YOUNG_DAYS = 300
PATTERNS = (
    "shared_phone",
    "shared_address",
    "many_institutions",
    "recent_change",
    "young_large",
    "no_trace",
)

Row = list[str | int]


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _amount(rng: np.random.Generator, low: float = 100_000, high: float = 3_000_000) -> str:
    value = float(np.clip(rng.lognormal(np.log(400_000), 0.7), low, high))
    return f"{round(value / 1000) * 1000:.2f}"


class _Plan:
    def __init__(self, block: Block, seed: int) -> None:
        self.block = block
        self.rng = stream(seed, "fraud", block.number)
        self.applications: list[Row] = []
        self.changes: list[Row] = []
        self.truth: list[Row] = []
        self.count = 0

    def code(self, i: int) -> str:
        return self.block.credit_code[i]

    def apply(self, i: int, institution: int, at: datetime, amount: str) -> None:
        self.count += 1
        number = f"B{self.block.number:04d}A{self.count:06d}"
        self.applications.append([number, self.code(i), institution, _when(at), amount])

    def change(self, i: int, at: datetime, field: str, value: str) -> None:
        self.changes.append([self.code(i), _when(at), field, value])

    def moment(self, low_days: float, high_days: float) -> datetime:
        return START + timedelta(days=float(self.rng.uniform(low_days, high_days)))

    def institution(self) -> int:
        return int(self.rng.integers(1, INSTITUTIONS + 1))

    def institutions(self, n: int) -> list[int]:
        return [int(x) + 1 for x in self.rng.choice(INSTITUTIONS, size=n, replace=False)]


def plant(block: Block, seed: int) -> tuple[list[Row], list[Row], list[Row]]:
    """(applications, registration changes, truth) of one block."""
    plan = _Plan(block, seed)
    rng = plan.rng
    enterprises = np.flatnonzero(block.kind == 1)
    if len(enterprises) < 30:
        return [], [], []
    young = set(np.flatnonzero(AS_OF_DAY - block.established < YOUNG_DAYS).tolist())
    pool = [int(i) for i in rng.permutation(enterprises) if int(i) not in young]
    young_pool = [int(i) for i in rng.permutation(sorted(young & set(enterprises.tolist())))]
    applicants = max(30, int(len(enterprises) * APPLICANT_SHARE))
    per = max(1, applicants // 100)

    def take(n: int) -> list[int]:
        chosen = pool[:n]
        del pool[:n]
        return chosen

    # shared_phone rings
    for ring in range(per):
        members = take(int(rng.integers(3, 7)))
        phone = (
            "1"
            + str(int(rng.choice([36, 37, 38, 39, 58, 88])))
            + f"{int(rng.integers(0, 10**8)):08d}"
        )
        first = plan.moment(10, DAYS - 8)
        for i in members:
            at = first + timedelta(days=float(rng.uniform(0, 7)))
            plan.change(i, at - timedelta(days=float(rng.uniform(10, 60))), "phone", phone)
            plan.apply(i, plan.institution(), at, _amount(rng))
            plan.truth.append([plan.code(i), 1, "shared_phone", f"{block.number}-p{ring}"])
    # shared_address rings at an agent's address (a hub)
    for ring in range(max(1, per // 3)):
        members = take(int(rng.integers(10, 14)))
        office = f"商务中心{int(rng.integers(1, 99))}号{int(rng.integers(1, 30))}层代办处"
        address = block.address[members[0]][:12] + office
        first = plan.moment(10, DAYS - 8)
        for i in members:
            at = first + timedelta(days=float(rng.uniform(0, 7)))
            plan.change(i, at - timedelta(days=float(rng.uniform(10, 60))), "address", address)
            plan.apply(i, plan.institution(), at, _amount(rng))
            plan.truth.append([plan.code(i), 1, "shared_address", f"{block.number}-a{ring}"])
    # one enterprise, many institutions within hours
    for i in take(per):
        at = plan.moment(0, DAYS - 1)
        for institution in plan.institutions(int(rng.integers(4, 6))):
            plan.apply(i, institution, at, _amount(rng))
            at += timedelta(hours=float(rng.uniform(0.2, 2.0)))
        plan.truth.append([plan.code(i), 1, "many_institutions", ""])
    # a shell taken over shortly before applying
    for i in take(per):
        at = plan.moment(0, DAYS)
        plan.change(
            i,
            at - timedelta(days=float(rng.uniform(3, 45))),
            "legal_representative",
            "代持人" + f"{int(rng.integers(0, 10**4)):04d}",
        )
        plan.apply(i, plan.institution(), at, _amount(rng))
        plan.truth.append([plan.code(i), 1, "recent_change", ""])
    # a very young enterprise asking a lot
    for i in young_pool[:per]:
        at = plan.moment(0, DAYS)
        plan.apply(i, plan.institution(), at, f"{int(rng.integers(1200, 2900)) * 1000:.2f}")
        plan.truth.append([plan.code(i), 1, "young_large", ""])
    del young_pool[:per]
    # fraud that leaves nothing the rules read (a borrowed identity, forged statements)
    for i in take(per):
        plan.apply(i, plan.institution(), plan.moment(0, DAYS), _amount(rng))
        plan.truth.append([plan.code(i), 1, "no_trace", ""])

    # honest applicants, with the noise real books have
    honest = pool[: max(0, applicants - len(plan.truth))]
    honest += young_pool[: max(1, len(young_pool) // 10)]
    for i in honest:
        at = plan.moment(0, DAYS)
        spread = rng.random()
        count = 3 if spread < 0.02 else 2 if spread < 0.22 else 1
        for institution in plan.institutions(count):
            plan.apply(i, institution, at, _amount(rng))
            at += timedelta(hours=float(rng.uniform(1, 20)))
        if rng.random() < 0.03:
            moved = f"{block.address[i][:12]}新址路{int(rng.integers(1, 999))}号"
            plan.change(i, at - timedelta(days=float(rng.uniform(1, 80))), "address", moved)
        plan.truth.append([plan.code(i), 0, "", ""])
    plan.applications.sort(key=lambda row: (str(row[3]), str(row[0])))
    plan.changes.sort(key=lambda row: (str(row[1]), str(row[0])))
    return plan.applications, plan.changes, plan.truth
