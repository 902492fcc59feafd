"""A report's claims and the notebook cells each one cites ("cell 3", "cells 2-4", "cells 1 and 5")."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Claim", "split_claims"]

_CITE = re.compile(r"\bcells?\s+(\d+)(?:\s*(?:-|–|to)\s*(\d+))?((?:\s*(?:,|and)\s*\d+)*)", re.IGNORECASE)


@dataclass(frozen=True)
class Claim:
    text: str
    cells: tuple[int, ...]


def _cited(sentence: str) -> tuple[int, ...]:
    found: list[int] = []
    for match in _CITE.finditer(sentence):
        first, last, more = int(match.group(1)), match.group(2), match.group(3)
        found += list(range(first, int(last) + 1)) if last else [first]
        found += [int(n) for n in re.findall(r"\d+", more or "")]
    return tuple(dict.fromkeys(found))


def split_claims(report: str) -> list[Claim]:
    """One claim per sentence with content; citations in brackets stay with their sentence."""
    text = re.sub(r"\s+", " ", report).strip()
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z#*\-])", text)
    return [Claim(s.strip(), _cited(s)) for s in sentences if len(s.strip()) > 3]
