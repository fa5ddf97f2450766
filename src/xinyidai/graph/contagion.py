"""Bad neighbours, the rating's association indicator: counted for the whole region at
once, stored, read back in bulk, and counted again around an enterprise that turns bad.

- ``count_region``: every enterprise's bad neighbours one link and exactly two links away,
  set-based. The links come from the index of keys (``graph_association_key``): one SQL
  statement pairs the enterprises sharing a key (hubs cut), the holder and borrower rows
  give shareholdings and guarantees; polars joins the pairs with the bad enterprises twice.
  Nothing walks the graph in Python, and no link record is read or decoded.
- ``store`` / ``stored``: the counts kept in ``graph_bad_neighbours`` (non-zero ones only),
  written by the region analysis and read by the rating, all at once or for a few codes.
- ``recount_around``: when a bad record about an enterprise arrives, the enterprises within
  two links of it are counted again one by one (``service.bad_neighbours_of``'s form: from
  their records, as the neighbourhood query sees them) and their stored counts replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.db import insert_frame, lookup_chunks
from xinyidai.graph import links
from xinyidai.graph.models import AssociationKey, BadNeighbourCount
from xinyidai.graph.schemas import BadNeighbours
from xinyidai.records import service as records_service

if TYPE_CHECKING:
    import polars as pl

# The fields of a bad-signal record its ``BadSignal.holds`` looks at.
SIGNAL_FIELDS = {
    category: tuple(dict.fromkeys((*signal.ended_by, signal.status_field)))
    for category, signal in links.BAD_SIGNALS.items()
}


def bad_subjects(session: Session, *, on: date | None = None) -> set[str]:
    """The enterprises showing a bad signal as of ``on`` (today by default): records of
    events up to that day and within their disclosure period, read in bulk."""
    day = on or clock.today()
    frames = records_service.category_frames(
        session, fields=SIGNAL_FIELDS, on=day, skip_unknown=True
    )
    bad: set[str] = set()
    for category, frame in frames.items():
        signal = links.BAD_SIGNALS[category]
        for row in frame.iter_rows(named=True):
            if row["subject_code"] and signal.holds(row):
                bad.add(row["subject_code"])
    return bad


def index_pairs(session: Session, *, max_group: int = links.MAX_GROUP) -> pl.DataFrame:
    """Every pair of linked enterprises as the index of keys has them, both ways once:
    columns ``a`` and ``b``. A shared key held by more than ``max_group`` links nobody."""
    import polars as pl

    key = AssociationKey.__table__
    groups = (
        select(key.c.kind, key.c.key)
        .where(key.c.kind.in_(links.SHARED_KINDS))
        .group_by(key.c.kind, key.c.key)
        .having(func.count() > 1, func.count() <= max_group)
        .subquery()
    )
    first, second = key.alias("first"), key.alias("second")
    shared = select(first.c.credit_code, second.c.credit_code).select_from(
        groups.join(first, and_(first.c.kind == groups.c.kind, first.c.key == groups.c.key)).join(
            second,
            and_(
                second.c.kind == first.c.kind,
                second.c.key == first.c.key,
                first.c.credit_code < second.c.credit_code,
            ),
        )
    )
    # (holder, H, E): H holds shares of E; (borrower, B, G): G guarantees B
    direct = select(key.c.key, key.c.credit_code).where(
        key.c.kind.in_((links.HOLDER, links.BORROWER))
    )
    a: list[str] = []
    b: list[str] = []
    for statement in (shared, direct):
        for one, other in session.execute(statement):
            a.append(one)
            b.append(other)
    pairs = pl.DataFrame({"a": a, "b": b}, schema={"a": pl.String, "b": pl.String})
    both = pl.concat([pairs, pairs.select(a="b", b="a")])
    return both.filter(pl.col("a") != pl.col("b")).unique()


def count(pairs: pl.DataFrame, bad: Iterable[str]) -> pl.DataFrame:
    """Bad neighbours per enterprise from linked ``pairs`` (both ways): ``credit_code``,
    ``depth1`` (bad enterprises one link away) and ``depth2`` (exactly two links away, not
    also one), for every enterprise with any; sorted by code."""
    import polars as pl

    sources = pl.DataFrame({"a": sorted(set(bad))}, schema={"a": pl.String})
    near = pairs.join(sources, on="a").rename({"a": "source", "b": "code"})
    far = (
        near.rename({"code": "middle"})
        .join(pairs.rename({"a": "middle", "b": "code"}), on="middle")
        .select("source", "code")
        .filter(pl.col("code") != pl.col("source"))
        .unique()
        .join(near, on=["source", "code"], how="anti")
    )
    depth1 = near.group_by("code").agg(pl.len().alias("depth1"))
    depth2 = far.group_by("code").agg(pl.len().alias("depth2"))
    return (
        depth1.join(depth2, on="code", how="full", coalesce=True)
        .select(
            pl.col("code").alias("credit_code"),
            pl.col("depth1").fill_null(0).cast(pl.Int64),
            pl.col("depth2").fill_null(0).cast(pl.Int64),
        )
        .sort("credit_code")
    )


def count_region(
    session: Session, *, on: date | None = None, max_group: int = links.MAX_GROUP
) -> pl.DataFrame:
    """Every enterprise's bad neighbours (those with any), from the index of keys as it
    stands and the bad signals as of ``on``: see ``count``."""
    return count(index_pairs(session, max_group=max_group), bad_subjects(session, on=on))


def as_mapping(frame: pl.DataFrame) -> dict[str, BadNeighbours]:
    return {
        code: BadNeighbours(depth1, depth2)
        for code, depth1, depth2 in frame.select("credit_code", "depth1", "depth2").iter_rows()
    }


def store(session: Session, frame: pl.DataFrame, *, analysis_id: str, on: date) -> int:
    """Replace every stored count by ``frame``'s (non-zero rows); how many were stored."""
    import polars as pl

    session.execute(delete(BadNeighbourCount))
    rows = frame.filter((pl.col("depth1") > 0) | (pl.col("depth2") > 0)).with_columns(
        pl.lit(analysis_id).alias("analysis_id"),
        pl.lit(on).alias("as_of"),
        pl.lit(clock.now()).dt.convert_time_zone("UTC").alias("counted_at"),
    )
    insert_frame(session, BadNeighbourCount.__table__, rows)
    session.flush()
    return rows.height


def stored(session: Session, *, credit_codes: Sequence[str] | None = None) -> pl.DataFrame:
    """The stored counts (of these codes, or all): ``credit_code``, ``depth1``, ``depth2``.
    An enterprise without a row has no bad neighbour that the last count found."""
    import polars as pl

    columns = (BadNeighbourCount.credit_code, BadNeighbourCount.depth1, BadNeighbourCount.depth2)
    if credit_codes is None:
        statements = [select(*columns)]
    else:
        wanted = sorted(set(credit_codes))
        statements = [
            select(*columns).where(condition)
            for condition in lookup_chunks(session, BadNeighbourCount.credit_code, wanted)
        ]
    rows = [row for statement in statements for row in session.execute(statement)]
    return pl.DataFrame(
        rows,
        schema={"credit_code": pl.String, "depth1": pl.Int64, "depth2": pl.Int64},
        orient="row",
    )


def replace(session: Session, counts: dict[str, BadNeighbours], *, on: date) -> list[str]:
    """Store these enterprises' counts as counted now (a zero count removes the row);
    the codes whose stored count changed."""
    if not counts:
        return []
    codes = sorted(counts)
    before = as_mapping(stored(session, credit_codes=codes))
    changed = [c for c in codes if before.get(c, BadNeighbours(0, 0)) != counts[c]]
    if not changed:
        return []
    for condition in lookup_chunks(session, BadNeighbourCount.credit_code, changed):
        session.execute(delete(BadNeighbourCount).where(condition))
    moment = clock.now()
    session.add_all(
        BadNeighbourCount(
            credit_code=c,
            depth1=counts[c].depth1,
            depth2=counts[c].depth2,
            analysis_id=None,
            as_of=on,
            counted_at=moment,
        )
        for c in changed
        if counts[c].depth1 or counts[c].depth2
    )
    session.flush()
    return changed
