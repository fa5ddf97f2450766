"""What association analysis gives out: neighbourhoods, circles and chains, risk signals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xinyidai.core.bounds import Flag
from xinyidai.core.i18n import N_


class NodeOut(BaseModel):
    code: str = Field(description="unified social credit code")
    name: str | None
    distance: int = Field(description="links from the enterprise asked about (0 is itself)")
    bad: bool = Field(description="shows a bad signal now (dishonest debtor, enforcement, …)")
    signals: list[str] = Field(description="the bad-signal categories it shows")


class EdgeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    source: str = Field(serialization_alias="from", validation_alias="from")
    target: str = Field(serialization_alias="to", validation_alias="to")
    kind: str = Field(
        description="representative, common_shareholder (name + county matches), "
        "shareholding (from holds shares of to), address, phone, guarantee (from guarantees to)"
    )
    directed: bool
    detail: dict[str, Any] = Field(
        description="basis of the match and what it matched on; amounts for guarantees"
    )


class StructureEdgeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    guarantor: str
    borrower: str
    amount: Decimal | None = Field(description="in force, yuan; null where not yours to see")
    contracts: list[str] | None = None
    in_force: bool


class StructureOut(BaseModel):
    """A guarantee circle (the last member guarantees the first) or chain."""

    id: int | None = None
    kind: str = Field(description="circle or chain")
    size: int = Field(description="number of enterprises")
    members: list[str] = Field(description="credit codes in guarantee order")
    names: list[str | None] = Field(default_factory=list)
    edges: list[StructureEdgeOut]
    total_amount: Decimal | None
    in_force: bool
    fingerprint: str
    analysis_id: str | None = None


class HubOut(BaseModel):
    kind: str
    members: int = Field(description="enterprises sharing the key; too many to be a link")


class AssociationsOut(BaseModel):
    code: str
    depth: int
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    circles: list[StructureOut] = Field(description="guarantee circles through this enterprise")
    chains: list[StructureOut] = Field(
        description="guarantee chains through it, as of the latest region analysis"
    )
    hubs: list[HubOut] = Field(description="keys shared too widely to link (not followed)")
    truncated: bool = Field(description="the node cap was reached; some links not followed")
    index_current: bool = Field(
        description="false when more records changed than one query folds in; "
        "links those changes make may be missing until the index catches up"
    )


class AnalysisOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    state: str
    actor: str | None
    job_id: str | None
    include_released: bool
    min_chain: int
    max_circle: int
    enterprises: int
    guarantees: int
    circles: int
    chains: int
    truncated: bool
    index_keys: int
    bad_neighbours: int = Field(description="enterprises with a bad neighbour, counts stored")
    counts_as_of: date | None = Field(description="the day bad signals were read as of")
    read_ms: int
    search_ms: int
    counts_ms: int
    total_ms: int
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class AnalysisIn(BaseModel):
    include_released: Flag = Field(
        default=False, description="count released guarantees (担保状态 已解除) too"
    )
    min_chain: int = Field(default=3, ge=2, le=20, description="shortest chain reported")


class AssociatedSignalOut(BaseModel):
    code: str
    name: str | None
    distance: int
    via: list[str] = Field(description="link kinds that reach it from one step closer")
    signals: list[str]
    since: date | None = Field(
        description="date of its latest bad record: when it last turned bad (a monitor "
        "compares it with its last look)"
    )


@dataclass(frozen=True, slots=True)
class BadNeighbours:
    """How many bad enterprises are one and exactly two links away from an enterprise."""

    depth1: int
    depth2: int


class BadNeighboursOut(BaseModel):
    code: str
    depth1: int
    depth2: int


# How link kinds and bad signals read on screen and in reports (message ids).
KIND_LABELS = {
    "representative": N_("Same legal representative (name and county)"),
    "common_shareholder": N_("Same natural-person shareholder (name and county)"),
    "shareholding": N_("Holds shares of"),
    "address": N_("Same registered address"),
    "phone": N_("Same contact phone"),
    "guarantee": N_("Guarantees"),
}
SIGNAL_LABELS = {
    "dishonest_debtor": N_("dishonest judgment debtor"),
    "court_enforcement": N_("under court enforcement"),
    "abnormal_operation": N_("on the abnormal operations list"),
    "serious_dishonesty": N_("on the serious dishonesty list"),
    "black_list": N_("on a black list"),
}
