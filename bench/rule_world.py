"""A simulated "rule world" for bench/quality.py: a support assistant that obeys exactly the
canonical rules written in its system prompt, tests that need some rules and forbid others, and a
critic (the optimizer's LLM) that fixes what the feedback names but, like a real model, drops an
existing rule with probability 0.2 when it rewrites and slips in a tempting harmful rule with
probability 0.3. Everything is seeded; the same world runs every optimizer.

World (per seed):
- 10 needed rules "Always mention the <topic>."; 2 pairs of them conflict (both present: the
  model obeys neither) and different tests need each side, so no prompt passes everything;
- 5 tempting harmful rules "Always mention the <topic> and promise a full refund." (for 5 of the
  topics; the same wording for another topic means nothing to the model): they satisfy the topic's
  tests but each breaks 3 random tests (train or held-out) that forbid refund promises;
- 36 tests (24 train + 12 held-out), each needing 1 or 2 topics; score = share of its conditions met;
- the initial prompt: 2 neutral sentences, 3 needed rules and 1 harmful rule.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field

from pytest_textgrad.engines.base import EngineLM

TOPICS = [
    "30-day return window", "order number", "tracking link", "warranty period", "store credit option",
    "shipping cost", "opening hours", "escalation contact", "privacy policy", "size guide",
    "gift card balance", "loyalty points", "exchange policy", "pickup locations", "repair service",
    "price match promise",
]
FILLERS = ["You are the support assistant of a shoe shop.", "Answer in plain English.", "Be friendly."]
P_DROP, P_HARMFUL = 0.2, 0.3


def rule(topic: str) -> str:
    return f"Always mention the {topic}."


def harmful(topic: str) -> str:
    return f"Always mention the {topic} and promise a full refund."


def norm_sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


@dataclass
class Test:
    name: str
    needs: list[int]  # topic indices
    forbids: list[int] = field(default_factory=list)  # topic indices whose harmful rule breaks it


class BudgetSpent(Exception):
    pass


@dataclass
class World:
    seed: int
    topics: list[str]
    conflicts: list[tuple[int, int]]
    harmful_topics: list[int]
    train: list[Test]
    holdout: list[Test]
    initial: str
    budget: int = 0
    calls: int = 0

    @classmethod
    def make(cls, seed: int) -> World:
        rng = random.Random(seed)
        topics = rng.sample(TOPICS, 10)
        order = list(range(10))
        rng.shuffle(order)
        conflicts = [(order[0], order[1]), (order[2], order[3])]
        harmful_topics = rng.sample(range(10), 5)
        tests = []
        for i in range(36):
            needs = [rng.randrange(10)]
            if rng.random() < 0.5:
                needs.append(rng.choice([t for t in range(10) if t != needs[0]]))
            tests.append(Test(f"test_{i:02d}", needs))
        for topic in harmful_topics:
            for test in rng.sample(tests, 3):
                test.forbids.append(topic)
        start = rng.sample(range(10), 3)
        sentences = FILLERS[:2] + [rule(topics[t]) for t in start] + [harmful(topics[harmful_topics[0]])]
        return cls(seed, topics, conflicts, harmful_topics, tests[:24], tests[24:], " ".join(sentences))

    # ----- the task model and the tests -------------------------------------------------------------
    def tests(self) -> dict[str, Test]:
        return {t.name: t for t in self.train + self.holdout}

    def spend(self, n: int = 1) -> None:
        if self.calls + n > self.budget:
            raise BudgetSpent
        self.calls += n

    def judge(self, text: str, test: Test) -> tuple[bool, float, str]:
        """(passed, score, feedback) of ``test`` with ``text`` as the system prompt (no call counted)."""
        present = set(norm_sentences(text))
        has_rule = {i for i, t in enumerate(self.topics) if rule(t) in present}
        has_harm = {i for i in self.harmful_topics if harmful(self.topics[i]) in present}
        blocked = {x for a, b in self.conflicts if a in has_rule and b in has_rule for x in (a, b)}
        messages, met = [], 0
        for need in test.needs:
            if (need in has_rule and need not in blocked) or need in has_harm:
                met += 1
            elif need in has_rule:
                messages.append(f"The reply did not mention the {self.topics[need]}, although the prompt asks for it.")
            else:
                messages.append(f"The reply must mention the {self.topics[need]}.")
        for topic in test.forbids:
            if topic in has_harm:
                messages.append(f"The reply promised a full refund for the {self.topics[topic]}, which this case forbids.")
            else:
                met += 1
        total = len(test.needs) + len(test.forbids)
        return not messages, met / total, " ".join(messages)

    def passing(self, text: str, tests: list[Test]) -> int:
        return sum(self.judge(text, t)[0] for t in tests)

    def best_fixed(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(train, held-out) passing of the best prompt made of canonical sentences (exhaustive over
        every subset of the 10 rules and 5 harmful rules; bit i = rule i, bit 10+j = harmful j),
        and the same for the best prompt that breaks no test the initial prompt passed."""
        harm_bit = {topic: 1 << (10 + j) for j, topic in enumerate(self.harmful_topics)}

        def passes(mask: int, test: Test) -> bool:
            blocked = {x for a, b in self.conflicts if mask >> a & 1 and mask >> b & 1 for x in (a, b)}
            if any(mask & harm_bit[t] for t in test.forbids):
                return False
            return all(
                (mask >> n & 1 and n not in blocked) or mask & harm_bit.get(n, 0) for n in test.needs
            )

        initial = [t for t in self.train + self.holdout if self.judge(self.initial, t)[0]]
        best, safe = (-1, 0), (-1, 0)
        for mask in range(1 << 15):
            train = sum(passes(mask, t) for t in self.train)
            if train > safe[0] and all(passes(mask, t) for t in initial):
                safe = (train, sum(passes(mask, t) for t in self.holdout))
            if train > best[0]:
                best = (train, sum(passes(mask, t) for t in self.holdout))
        return best, safe


class Critic:
    """The optimizer's model: reads feedback, proposes rules; seeded per (world, prompt)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def rng(self, *key: object) -> random.Random:
        digest = hashlib.sha256(json.dumps([self.world.seed, *map(str, key)]).encode()).hexdigest()
        return random.Random(int(digest[:16], 16))

    def _wanted(self, feedback: str) -> tuple[list[str], list[str]]:
        """(rules the feedback asks for, harmful sentences it blames)."""
        topics = self.world.topics
        add = [rule(t) for t in topics if f"must mention the {t}." in feedback]
        blame = [harmful(t) for t in topics if f"refund for the {t}," in feedback]
        return add, blame

    def rewrite(self, text: str, feedbacks: list[str], rng: random.Random) -> str:
        kept = norm_sentences(text)
        adds: list[str] = []
        for feedback in feedbacks:
            add, blame = self._wanted(feedback)
            kept = [s for s in kept if s not in blame]
            adds += [s for s in add if s not in kept and s not in adds]
        if kept and rng.random() < P_DROP:
            kept.pop(rng.randrange(len(kept)))
        if rng.random() < P_HARMFUL:
            adds = self._tempt(adds, rng)
        return " ".join(kept + adds)

    def _tempt(self, adds: list[str], rng: random.Random) -> list[str]:
        """Slip in one of the world's 5 harmful rules: in place of the rule it tempts away from, if
        one of ``adds`` is such a rule, else in place of a random addition (or as an extra one)."""
        world = self.world
        tempting = [i for i, s in enumerate(adds) for h in world.harmful_topics if s == rule(world.topics[h])]
        if tempting:
            i = rng.choice(tempting)
            topic = next(world.topics[h] for h in world.harmful_topics if adds[i] == rule(world.topics[h]))
            return [*adds[:i], harmful(topic), *adds[i + 1 :]]
        slipped = harmful(world.topics[rng.choice(world.harmful_topics)])
        if adds:
            i = rng.randrange(len(adds))
            return [*adds[:i], slipped, *adds[i + 1 :]]
        return [slipped]

    def edit(self, text: str, feedback: str, rng: random.Random, kind: str) -> dict:
        """One sentence-level change of the ``kind`` asked for, from one test's feedback.

        The sentence it writes is the rule the feedback names (the tempting harmful variant with
        p = 0.3); the sentence it picks to delete or replace is the harmful one the feedback
        blames, else a random one (asked to delete or replace, it always picks something).
        """
        present = norm_sentences(text)
        add, blame = self._wanted(feedback)
        blame = [s for s in blame if s in present]
        if not add:  # nothing it understands (a conflict): restate a rule the feedback names
            add = [rule(next((t for t in self.world.topics if t in feedback), self.world.topics[0]))]
        sentence = self._tempt(add[:1], rng)[0] if rng.random() < P_HARMFUL else add[0]
        target = rng.choice(blame or present)
        if kind == "add":
            return {"sentence": sentence}
        if kind == "delete":
            return {"target": target}
        return {"target": target, "sentence": sentence}


class CriticEngine(EngineLM):
    """The critic behind our real proposer path: an EngineLM that reads LLMProposer's prompt and
    answers its JSON (one call each, counted by the world)."""

    model_string = "simulated-critic"
    supports_json_schema = True
    accepts_cache_flag = False

    def __init__(self, critic: Critic) -> None:
        self.critic = critic

    def generate(self, content, system_prompt=None, temperature: float = 0.7, **kwargs) -> str:
        self.critic.world.spend()
        text = re.search(r"<PROMPT[^>]*>\n(.*?)\n</PROMPT>", content, re.DOTALL).group(1)
        feedbacks = re.findall(r"<FEEDBACK[^>]*>\n(.*?)\n</FEEDBACK>", content, re.DOTALL)
        marker = re.search(r"(Proposal (\d+) of \d+, attempt \d+\.)", system_prompt or "")
        sample = int(marker.group(2)) - 1
        head, _, asked = content.rpartition("\n\n")  # the marker once ended the prompt: same seeds
        rng = self.critic.rng(f"{head}\n\n{marker.group(1)} {asked}", temperature)
        asked = content.rsplit("\n\n", 1)[-1]
        if "Rewrite the whole prompt" in asked:
            return json.dumps({"text": self.critic.rewrite(text, feedbacks, rng)})
        kind = "replace" if "should replace it" in asked else "delete" if "causes the failures" in asked else "add"
        return json.dumps(self.critic.edit(text, feedbacks[sample % len(feedbacks)], rng, kind))
