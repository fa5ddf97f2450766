"""Truth about planted guarantee circles: which they are, and whether ingestion can see them.

``_draw_guarantees`` appends each circle's contracts one after the other (A → B, B → C,
C → A), after the chains. A circle is *in force* when every contract's status is 正常, and
*intact* when none of its rows was spoiled by a planted fault: an analysis of the ingested
region finds exactly the circles that are both (unless two chains happen to close one).
"""

from __future__ import annotations

import numpy as np

from xinyidai.synth.enterprises import Block
from xinyidai.synth.faults import DUPLICATE, Planted
from xinyidai.synth.feeds import Columns

CIRCLE_HEADERS = ["circle", "members", "contracts", "amounts", "in_force", "intact"]
RELEASED = "已解除"
CONTRACT, AMOUNT, STATUS = 0, 7, 10  # columns of the guarantee feed


def planted_circles(block: Block) -> list[list[int]]:
    """The rows of each planted circle in a block, in guarantee order."""
    circles: list[list[int]] = []
    current: list[int] = []
    for row in np.flatnonzero(block.g_circle).tolist():
        current.append(row)
        if block.g_borrower[row] == block.g_guarantor[current[0]]:
            circles.append(current)
            current = []
    return circles


def circle_rows(
    block: Block, built: Columns, delivered: Columns, planted: list[Planted], first: int
) -> list[list[str | int]]:
    """Truth rows for a block's circles, numbered from ``first``.

    ``built`` are the guarantee feed's columns as drawn, ``delivered`` as written (faults
    planted), ``planted`` where the faults went.
    """
    spoiled = {p.position for p in planted if p.reason != DUPLICATE}
    clean = {
        contract for position, contract in enumerate(delivered[CONTRACT]) if position not in spoiled
    }
    rows: list[list[str | int]] = []
    for number, circle in enumerate(planted_circles(block), start=first):
        contracts = [built[CONTRACT][row] for row in circle]
        rows.append(
            [
                number,
                ";".join(block.credit_code[int(block.g_guarantor[row])] for row in circle),
                ";".join(contracts),
                ";".join(
                    f"{built[AMOUNT][row] // 100}.{built[AMOUNT][row] % 100:02d}" for row in circle
                ),
                int(all(built[STATUS][row] != RELEASED for row in circle)),
                int(all(contract in clean for contract in contracts)),
            ]
        )
    return rows
