"""A per-test Pareto pool of fully evaluated texts, in the spirit of GEPA.

A text stays in the pool while it is best (highest score; passing beats failing) on at least one
test among the members. Two members that win on disjoint tests are the natural pair to merge: each
knows something the other does not. Members are candidates the gate may have refused (they fixed
tests but broke others): the pool keeps what they got right for later merges and repairs.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from .protocols import TestOutcome
from .sentences import fingerprint


class Member(BaseModel):
    text: str
    scores: dict[str, float] = Field(default_factory=dict)
    """Per test: score, plus 1 when the test passed, so a pass beats any partial score."""
    accepted: bool = False


def _value(outcome: TestOutcome) -> float:
    return outcome.score + (1.0 if outcome.passed else 0.0)


class Pool(BaseModel):
    members: list[Member] = Field(default_factory=list)
    limit: int = 12

    def add(self, text: str, outcomes: Iterable[TestOutcome], accepted: bool = False) -> bool:
        """Add a fully evaluated text; returns whether it is on the frontier (then it stays)."""
        key = fingerprint(text)
        if any(fingerprint(m.text) == key for m in self.members):
            return False
        member = Member(text=text, scores={o.test: _value(o) for o in outcomes}, accepted=accepted)
        self.members.append(member)
        self.members = self.frontier()
        if len(self.members) > self.limit:  # keep the accepted ones and those winning most tests
            ranked = sorted(self.members, key=lambda m: (m.accepted, len(self.wins(m))), reverse=True)
            self.members = ranked[: self.limit]
        return member in self.members

    def best(self, test: str) -> float:
        return max((m.scores.get(test, 0.0) for m in self.members), default=0.0)

    def wins(self, member: Member) -> set[str]:
        """The tests on which ``member`` has the pool's best value (ties count)."""
        return {t for t, v in member.scores.items() if v > 0 and v >= self.best(t)}

    def frontier(self) -> list[Member]:
        """Members best on some test that no other member beats there or ties while dominating."""
        kept = []
        for member in self.members:
            dominated = any(
                other is not member
                and all(other.scores.get(t, 0.0) >= v for t, v in member.scores.items())
                and (
                    any(other.scores.get(t, 0.0) > v for t, v in member.scores.items())
                    or (other.accepted and not member.accepted)
                )
                for other in self.members
            )
            if not dominated:
                kept.append(member)
        return kept

    def disjoint_pairs(self, relative_to: dict[str, float]) -> list[tuple[Member, Member]]:
        """Pairs of members that each beat ``relative_to`` on tests the other does not."""
        gains = {
            id(m): {t for t, v in m.scores.items() if v > relative_to.get(t, 0.0)} for m in self.members
        }
        pairs = []
        for i, a in enumerate(self.members):
            for b in self.members[i + 1 :]:
                ga, gb = gains[id(a)], gains[id(b)]
                if ga and gb and ga - gb and gb - ga:
                    pairs.append((a, b))
        return pairs
