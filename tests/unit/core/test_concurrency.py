"""Calls start when made and are awaited when read; results do not depend on scheduling."""

import asyncio
import random
import time

import pytest

import pytest_textgrad as tg
from pytest_textgrad.engines import ScriptedEngine

DELAY = 0.4  # long enough that a loaded CI machine's pauses stay well inside the margins


def slow_engine(delay=DELAY, **kwargs):
    return ScriptedEngine(
        rules=[
            (r"The text to improve", lambda t: {"reasoning": "", "improved_variable": "new prompt"}),
            (r"You are the critic", lambda t: "critique of " + t.split("<OUTPUT>\n")[1].split("\n")[0]),
            (r"Judge", lambda t: "verdict on " + t.rsplit("\n", 1)[-1]),
        ],
        default=lambda t: "answer to " + t.rsplit("\n", 1)[-1],
        delay=delay,
        **kwargs,
    )


def build_batch(engine, n):
    system_prompt = tg.Variable("Be concise.", role_description="system prompt")
    model = tg.BlackboxLLM(engine, system_prompt=system_prompt)
    losses = []
    for i in range(n):
        answer = model(tg.Variable(f"question {i}", requires_grad=False, role_description="question"))
        losses.append(tg.TextLoss("Judge", engine=engine)(answer))
    return system_prompt, losses


def test_calls_start_at_once_and_wait_only_when_read():
    engine = slow_engine()
    started = time.perf_counter()
    answers = [tg.BlackboxLLM(engine)(f"q{i}") for i in range(8)]
    assert time.perf_counter() - started < DELAY / 2
    assert [a.value for a in answers] == [f"answer to q{i}" for i in range(8)]
    assert time.perf_counter() - started < DELAY * 2.5  # concurrent, not 8 x DELAY


def test_dependent_calls_chain_without_blocking_the_caller():
    engine = slow_engine()
    started = time.perf_counter()
    answer = tg.BlackboxLLM(engine)("q")
    loss = tg.TextLoss("Judge", engine=engine)(answer)
    assert time.perf_counter() - started < DELAY / 2
    assert loss.value == "verdict on answer to q"


def test_errors_surface_when_read_and_name_the_call():
    def boom(_text):
        raise ConnectionError("provider down")

    answer = tg.BlackboxLLM(ScriptedEngine(default=boom))("q", response_role_description="the answer")
    with pytest.raises(tg.CallError, match=r"LLM call to scripted for 'the answer'.*provider down"):
        answer.value  # noqa: B018
    loss = tg.TextLoss("Judge", engine=ScriptedEngine(default="fine"))(answer)
    with pytest.raises(tg.CallError, match="provider down"):
        loss.value  # noqa: B018


def test_batch_step_costs_about_the_depth_of_the_graph():
    """forward, loss, gradient to answers, gradient to prompt, update: 5 levels, 4N+1 calls."""
    n = 8
    engine = slow_engine()
    started = time.perf_counter()
    system_prompt, losses = build_batch(engine, n)
    tg.sum(losses).backward(engine)
    tg.TGD([system_prompt], engine=engine).step()
    elapsed = time.perf_counter() - started
    assert len(engine.calls) == 4 * n + 1
    assert system_prompt.value == "new prompt"
    assert elapsed < 5 * DELAY * 1.6, (
        f"{elapsed:.2f}s for a 5-level graph (sequential: {(4 * n + 1) * DELAY}s)"
    )


def run_once(seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)

    def jitter(reply):
        def answer(text):
            time.sleep(rng.random() * 0.02)
            return reply(text)

        return answer

    base = slow_engine(delay=0)
    engine = ScriptedEngine(rules=[(p, jitter(r)) for p, r in base.rules], default=jitter(base.default))
    system_prompt, losses = build_batch(engine, 12)
    tg.sum(losses).backward(engine)
    gradients = [g.value for g in system_prompt.gradients]
    prompt = tg.TGD([system_prompt], engine=engine).update_prompt(system_prompt)
    return gradients, [prompt]


def test_results_do_not_depend_on_scheduling():
    reference = run_once(0)
    assert len(reference[0]) == 12
    for seed in range(1, 6):
        assert run_once(seed) == reference


def test_async_code_can_await_values():
    engine = slow_engine()

    async def main():
        answers = [tg.BlackboxLLM(engine)(f"q{i}") for i in range(4)]
        return await asyncio.gather(*(a.aget_value() for a in answers))

    started = time.perf_counter()
    assert asyncio.run(main()) == [f"answer to q{i}" for i in range(4)]
    assert time.perf_counter() - started < DELAY * 2.5


def test_chat_engine_async_twin():
    engine = ScriptedEngine(default="pong")
    assert asyncio.run(engine.agenerate("ping")) == "pong"
