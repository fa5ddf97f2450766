"""Business logic of joint modelling. Callers use this package
(``from xinyidai.joint import service``); the modules behind it: ``thresholds`` (threshold
answers and the limit that keeps them from being walked), ``alignment`` (the private set
intersection with an institution, at the center)."""

from __future__ import annotations

from xinyidai.joint.service.alignment import (
    alignments_statement,
    customers_or_raise,
    decode_points,
    encode_points,
    match,
    offer,
)
from xinyidai.joint.service.alignment import get_or_raise as alignment_or_raise
from xinyidai.joint.service.thresholds import (
    QUESTIONS,
    Answer,
    answer,
    answers_of,
    answers_statement,
    check_limit,
    parse_threshold,
    question_or_raise,
)

__all__ = [
    "QUESTIONS",
    "Answer",
    "alignment_or_raise",
    "alignments_statement",
    "answer",
    "answers_of",
    "answers_statement",
    "check_limit",
    "customers_or_raise",
    "decode_points",
    "encode_points",
    "match",
    "offer",
    "parse_threshold",
    "question_or_raise",
]
