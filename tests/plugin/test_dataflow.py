"""Data-flow edges among recorded calls (capture.dataflow) and the loss graph built on them
(optimize.losses): which call fed which, what the test judged, and one gradient call per edge."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_textgrad import ScriptedEngine
from pytest_textgrad.core import schedule_backward, wait_for_gradients
from pytest_textgrad.plugin.capture import MIN_SPAN, feeds, judged_calls, link_call, sink_calls
from pytest_textgrad.plugin.optimize.losses import loss_of_test, raw_feedback
from pytest_textgrad.plugin.prompts import PromptRegistry
from pytest_textgrad.plugin.record import CallLog, TestRecord

NOTES = "Refunds are accepted within 30 days of purchase. Shipping is free above 50 euros."


def call(user: str, reply: str, system: str = "", phase: str = "forward") -> CallLog:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    return CallLog(model="m", messages=messages, reply=reply, phase=phase, source="litellm")


def linked(*calls: CallLog) -> list[list[int]]:
    done: list[CallLog] = []
    for log in calls:
        link_call(done, log)
        done.append(log)
    return [c.inputs_from for c in done]


# ----- the rule ------------------------------------------------------------------------------------
def test_a_reply_templated_into_a_later_call_is_an_edge_whatever_the_whitespace() -> None:
    rewrapped = NOTES.replace(". ", ".\n    ")
    edges = linked(
        call("Extract the policy from: <doc>", NOTES),
        call(f"Notes:\n    {rewrapped}\n\nQuestion: can I return shoes?", "Yes, within 30 days."),
    )
    assert edges == [[], [0]]


def test_a_trimmed_span_of_min_span_chars_is_an_edge_one_char_less_is_not() -> None:
    quoted = NOTES[5 : 5 + MIN_SPAN]
    assert feeds(NOTES, "doc", f"As the notes say: '{quoted}'.")
    assert not feeds(NOTES, "doc", f"As the notes say: '{quoted[:-1]}'.")


def test_an_echo_of_the_earlier_calls_own_input_is_not_its_output() -> None:
    question = "I bought shoes 45 days ago and would like to know if I can still return them"
    assert not feeds(f"You asked: {question}", f"Question: {question}", f"Answer this: {question}")
    # ...but the part the call did produce still counts
    assert feeds(f"You asked: {question}. {NOTES}", f"Question: {question}", f"Use: {NOTES}")


def test_a_short_reply_counts_only_set_apart_on_a_line_after_a_colon_or_in_tags_or_quotes() -> None:
    assert feeds("billing", "Classify: my card was charged", "Category:\nbilling\n\nWrite the reply.")
    assert feeds("billing", "Classify", "billing")
    assert feeds("billing", "Classify", "The ticket's category: billing\nWrite the reply.")
    assert feeds("two words", "Classify", "Label <label>two\n words</label> and 'more'")
    assert feeds("billing", "Classify", 'The classifier said "billing".')
    assert not feeds("billing", "Classify", "You handle billing questions for the shop.")


def test_a_quote_of_the_earlier_calls_input_carried_whole_is_an_edge() -> None:
    passage = "Section 4: shoes may be returned within 30 days of purchase with the receipt."
    library = f"Section 1: shipping is free.\n{passage}\nSection 9: gift cards are final."
    assert feeds(passage, f"Library:\n{library}\nQuestion: returns?", f"Passages:\n{passage}")


def test_an_earlier_reply_seen_only_inside_a_later_reply_did_not_feed_directly() -> None:
    passage = "Section 4: shoes may be returned within 30 days of purchase with the receipt."
    facts = f"Facts quoted from the passage: {passage} A receipt is needed."
    edges = linked(
        call("Library: ... Question: returns?", passage),
        call(f"Passages:\n{passage}", facts),
        call(f"Facts:\n{facts}\nQuestion: returns?", "Yes, within 30 days."),
        call(f"Passages:\n{passage}\nFacts:\n{facts}", "Yes, within 30 days, with the receipt."),
    )
    assert edges == [[], [0], [1], [0, 1]]


def test_replies_sharing_boilerplate_do_not_feed_each_others_readers() -> None:
    def reply(n: int) -> str:
        return f"Here is the summary that you asked for, in one paragraph: part {n} is done."

    edges = linked(
        call("part 0", reply(0)), call(f"Use: {reply(0)}", reply(1)), call(f"Use: {reply(1)}", reply(2))
    )
    assert edges == [[], [0], [1]]


def test_of_identical_replies_only_the_latest_feeds() -> None:
    edges = linked(call("a", NOTES), call("b", NOTES), call(f"Notes: {NOTES}", "done"))
    assert edges == [[], [], [1]]


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.from_regex(r"[a-z]{2,9}", fullmatch=True), min_size=12, max_size=40),
    before=st.text(alphabet="xyz ,.\n", max_size=30),
    gaps=st.lists(st.sampled_from([" ", "\n", "  ", "\n\t"]), min_size=40, max_size=40),
)
def test_a_reply_carried_whole_always_feeds(words: list[str], before: str, gaps: list[str]) -> None:
    reply = " ".join(words)
    carried = "".join(w + gaps[i % len(gaps)] for i, w in enumerate(words))
    assert feeds(reply, "Summarise the document.", f"{before}\n{carried}\nAnswer the question.")


# ----- sinks and judged outputs ----------------------------------------------------------------------
def test_sinks_are_the_calls_no_later_call_consumed_and_a_named_output_overrides_them() -> None:
    side = call("Translate 'hello' to French", "bonjour")
    calls = [call("Extract: <doc>", NOTES), side, call(f"Notes: {NOTES}\nQ?", "Within 30 days, yes.")]
    linked(*calls)
    assert sink_calls(calls) == [1, 2]
    assert judged_calls(calls) == [1, 2]
    assert judged_calls(calls, ["Within 30 days, yes."]) == [2]
    assert judged_calls(calls, ["bonjour"]) == [1]
    assert judged_calls(calls, ["Model said bonjour twice"]) == [1, 2]  # no producer found: the sinks


def test_a_judge_call_is_linked_to_the_output_it_read() -> None:
    calls = [
        call("Extract: <doc>", NOTES),
        call(f"Notes: {NOTES}\nQ?", "Within thirty days of purchase, yes."),
    ]
    judge = call(
        "<OUTPUT>Within thirty days of purchase, yes.</OUTPUT> <CRITERION>polite", "FAIL", phase="loss"
    )
    linked(*calls, judge)
    assert judge.inputs_from == [1]
    # what the test judged comes from the outputs it named (a failing tg_judge names its output)
    assert judged_calls([*calls, judge], ["Within thirty days of purchase, yes."]) == [1]


# ----- the loss graph: one gradient call per edge, upstream prompts hear the downstream call -------
def pipeline_record(tmp_path: Path) -> tuple[TestRecord, PromptRegistry]:
    """retrieve → extract → answer, the answer reading both (a fan-in)."""
    (tmp_path / "prompts").mkdir()
    texts = {
        "retrieve": "Pick the passages of the policy that answer the question.",
        "extract": "Extract the facts a support agent needs from the passages.",
        "answer": "Answer the customer in one sentence using the facts.",
    }
    for name, text in texts.items():
        (tmp_path / f"prompts/{name}.txt").write_text(text)
    registry = PromptRegistry(tmp_path)
    for name in texts:
        registry.get(f"prompts/{name}.txt")
    passages = "Section 4: items may be returned within thirty days. Section 9: gift cards are final."
    facts = "Return window: thirty days. Gift cards: not refundable."
    record = TestRecord("test_app.py::test_refund", feedback="the answer must state the 30-day window")
    calls = [
        call("Can I return shoes?", passages, texts["retrieve"]),
        call(f"Passages:\n{passages}", facts, texts["extract"]),
        call(f"Passages:\n{passages}\nFacts:\n{facts}\nQ: Can I return shoes?", "Sure!", texts["answer"]),
    ]
    linked(*calls)
    record.calls = calls
    for c in calls:
        c.prompts = [f"prompts/{n}.txt" for n, t in texts.items() if t in c.text]
    record.prompts = [f"prompts/{n}.txt" for n in texts]
    return record, registry


def gradient_engine() -> ScriptedEngine:
    def gradient(text: str) -> str:
        target = re.search(r"Give feedback on the (.*?): what in it", text, re.DOTALL).group(1)
        return f"GRADIENT[{target}] given ({len(re.findall('GRADIENT', text))} gradients in its prompt)"

    return ScriptedEngine(rules=[(r"Give feedback on the", gradient)])


def test_backward_makes_one_gradient_call_per_edge_and_reaches_upstream_through_downstream(
    tmp_path: Path,
) -> None:
    record, registry = pipeline_record(tmp_path)
    assert [c.inputs_from for c in record.calls] == [[], [0], [0, 1]]
    engine = gradient_engine()
    loss = loss_of_test(record, registry)
    wait_for_gradients(schedule_backward([loss], engine))
    edges = sum(len(c.inputs_from) + len(c.prompts) for c in record.calls)
    assert edges == 6 and len(engine.calls) == edges
    extract = registry["prompts/extract.txt"].variable
    assert len(extract.gradients) == 1
    # extract.txt's gradient call read the feedback the answer call gave on the extract call's reply
    prompt = next(
        c.prompt
        for c in engine.calls
        if "Give feedback on the prompt text in the file prompts/extract" in c.prompt
    )
    assert "GRADIENT[response from the language model (call 1 of the test's pipeline)]" in prompt
    assert "the answer must state the 30-day window" not in prompt
    retrieve_prompt = next(c.prompt for c in engine.calls if "file prompts/retrieve" in c.prompt)
    # fan-in: the retrieve call's feedback came from both of its readers
    assert retrieve_prompt.count("GRADIENT[response from the language model (call 0") == 2


def test_the_raw_feedback_of_an_upstream_prompt_shows_the_judged_call(tmp_path: Path) -> None:
    record, _ = pipeline_record(tmp_path)
    raw = raw_feedback(record, "prompts/extract.txt")
    assert raw.value == record.feedback
    assert raw.gradient_context.call_output == "Sure!"
