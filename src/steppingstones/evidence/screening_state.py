"""Where one record stands at one screening stage, from the decisions made on it.

Plain data in, plain data out. Rules, as Covidence and Rayyan apply them:

* A resolution (by a third reviewer, or by the pair after discussion) settles the record.
* Single-reviewer screening: the reviewer's decision stands.
* Dual screening: the record waits until two reviewers have decided; two excludes exclude it;
  two votes of include or maybe include it (a "maybe" moves a record on, so that nothing is
  lost on uncertainty at title and abstract); any other pair is a conflict for resolution.
* A "maybe" from a single reviewer also moves the record on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"

UNSCREENED = "unscreened"
AWAITING = "awaiting second reviewer"
INCLUDED = "included"
EXCLUDED = "excluded"
CONFLICT = "conflict"


@dataclass(frozen=True)
class Vote:
    reviewer: int
    decision: str
    reason: str = ""
    is_resolution: bool = False


def outcome(votes: Sequence[Vote], *, dual: bool) -> str:
    """One of UNSCREENED, AWAITING, INCLUDED, EXCLUDED, CONFLICT."""
    resolutions = [vote for vote in votes if vote.is_resolution]
    if resolutions:
        return EXCLUDED if resolutions[-1].decision == EXCLUDE else INCLUDED
    ordinary = [vote for vote in votes if not vote.is_resolution]
    if not ordinary:
        return UNSCREENED
    if not dual:
        return EXCLUDED if ordinary[-1].decision == EXCLUDE else INCLUDED
    by_reviewer = {vote.reviewer: vote.decision for vote in ordinary}
    if len(by_reviewer) < 2:
        return AWAITING
    decisions = set(by_reviewer.values())
    if decisions == {EXCLUDE}:
        return EXCLUDED
    if EXCLUDE not in decisions:
        return INCLUDED
    return CONFLICT


def exclusion_reason(votes: Sequence[Vote]) -> str:
    """The reason a record was excluded: the resolution's, else the first reviewer's given."""
    for vote in sorted(votes, key=lambda v: not v.is_resolution):
        if vote.decision == EXCLUDE and vote.reason:
            return vote.reason
    return "No reason given"


def training_label(votes: Sequence[Vote]) -> int | None:
    """What the prioritisation model learns from a record: 1 relevant, 0 irrelevant, None when
    nobody has decided. It learns from every single vote without waiting for the second
    reviewer (as a reviewer working alone would teach it); a resolution wins, and a vote of
    include or maybe from anyone counts as relevant, so a conflict leans towards inclusion."""
    resolutions = [vote for vote in votes if vote.is_resolution]
    if resolutions:
        return 0 if resolutions[-1].decision == EXCLUDE else 1
    if not votes:
        return None
    return 0 if all(vote.decision == EXCLUDE for vote in votes) else 1
