"""TextGrad programs beyond its own tests: the names its modules expose, what its notebooks print,
and operations users write themselves on TextGrad's classes (``BackwardContext(backward_fn=
self.backward, ...)``), each run through our real graph with a scripted engine (engines behind
servers: ``test_compat_engine_servers.py``).
"""

from __future__ import annotations

import importlib
import json
import threading
from pathlib import Path

import pytest

import pytest_textgrad as tg
from pytest_textgrad.autograd.function import BackwardContext
from pytest_textgrad.engines import ScriptedEngine

NAMES = json.loads((Path(__file__).with_name("textgrad_0_1_8_names.json")).read_text())
"""For each module of TextGrad 0.1.8, the names it exposes that TextGrad defines (its own classes,
functions, constants and submodules, also those it imports from its other modules), listed from an
installed ``textgrad==0.1.8``. Left out: its JSON log-file machinery (``LOG_DIR``, ``log_file``...)."""


@pytest.mark.parametrize("module", sorted(NAMES))
def test_every_name_a_textgrad_module_exposes_exists_here(module):
    ours = importlib.import_module(module.replace("textgrad", "pytest_textgrad", 1))
    missing = [name for name in NAMES[module] if not hasattr(ours, name)]
    assert not missing, f"{module}: {missing}"


def test_submodules_are_attributes_without_their_own_import():
    # TextGrad's packages import their modules: `tg.autograd.functional.sum(...)` needs no import line
    assert tg.autograd.functional.sum is tg.autograd.sum
    assert tg.optimizer.optimizer_prompts.OPTIMIZER_SYSTEM_PROMPT
    assert isinstance(tg.TextLoss("Be critical.", engine=ScriptedEngine(default="ok")), tg.autograd.Module)


def test_prompt_constants_keep_textgrads_placeholders():
    from pytest_textgrad.autograd import string_based_ops as sbo
    from pytest_textgrad.optimizer import optimizer_prompts as op

    keys = dict(
        variable_desc="the prompt",
        variable_short="Be nice.",
        variable_grad="too vague",
        new_variable_start_tag="<IMPROVED_VARIABLE>",
        new_variable_end_tag="</IMPROVED_VARIABLE>",
        past_values="v1",
        constraint_text="short",
        in_context_examples="ex",
        function_purpose="checks",
        inputs_string="x",
        response_value="0",
        conversation="c",
        response_desc="score",
        response_gradient="wrong",
    )
    prompt = op.TGD_PROMPT_PREFIX.format(**keys) + op.TGD_PROMPT_SUFFIX.format(**keys)
    assert "Be nice." in prompt and "too vague" in prompt and "<IMPROVED_VARIABLE>{the" in prompt
    for text in (
        op.MOMENTUM_PROMPT_ADDITION,
        op.CONSTRAINT_PROMPT_ADDITION,
        op.IN_CONTEXT_EXAMPLE_PROMPT_ADDITION,
    ):
        assert "{" not in text.format(**keys)
    conversation = sbo.CONVERSATION_TEMPLATE_STRING.format(**keys)
    assert "checks" in conversation and "<OUTPUT_OF_FUNCTION> 0 </OUTPUT_OF_FUNCTION>" in conversation
    assert "wrong" in sbo.OBJECTIVE_INSTRUCTION_CHAIN.format(**keys)


# ----- what a notebook shows --------------------------------------------------------------------------------------
def test_repr_is_textgrads_form_with_the_text_even_before_the_call_returned():
    gate = threading.Event()
    engine = ScriptedEngine(
        rules={r"critic": "Say which city.", r"Evaluate": "Too short."},
        default=lambda text: gate.wait(5) and "Paris",
    )
    question = tg.Variable("Capital of France?", role_description="question", requires_grad=False)
    answer = tg.BlackboxLLM(engine)(question)
    assert not answer.is_ready  # the call is still running...
    threading.Timer(0.05, gate.set).start()
    # ...and a notebook cell showing `answer` prints its text, as TextGrad's does
    assert repr(answer) == "Variable(value=Paris, role=response from the language model, grads=set())"
    assert repr(answer.gradients) == "set()"
    tg.TextLoss("Evaluate the answer.", engine=engine)(answer).backward(engine)
    # `print(code.gradients)` in TextGrad's tutorial shows the feedback itself
    assert repr(answer.gradients) == (
        "{Variable(value=Say which city., role=feedback to response from the language model, grads=set())}"
    )
    assert "Variable(value=Say which city." in repr(answer)
    (context,) = answer.gradients_context.values()
    assert "'context': '<LM_SYSTEM_PROMPT>" in repr(answer.gradients_context)
    assert context["variable_desc"] == "response from the language model"


def test_repr_of_a_failed_call_shows_the_error_instead_of_raising():
    engine = ScriptedEngine(rules={})  # no rule, no default: the call fails
    answer = tg.BlackboxLLM(engine)(tg.Variable("Hi", role_description="greeting", requires_grad=False))
    assert repr(answer).startswith("Variable(value=<failed: LLM call to")
    with pytest.raises(tg.CallError):
        str(answer)


# ----- operations users write on TextGrad's classes -------------------------------------------------------------
def _critic_engine() -> ScriptedEngine:
    return ScriptedEngine(
        rules=[(r"Evaluate", "The answer shouts."), (r"You are the critic", "Ask for a calm tone.")],
        default="answer text",
    )


def test_an_op_of_ones_own_reusing_llmcall_backward():
    from pytest_textgrad.autograd.llm_ops import LLMCall

    class Shouted(LLMCall):
        def forward(self, x, response_role_description="shouted answer"):
            system = self.system_prompt.value if self.system_prompt else None
            text = self.engine(x.value, system_prompt=system).upper()
            response = tg.Variable(
                text, predecessors=[self.system_prompt, x], role_description=response_role_description
            )
            response.set_grad_fn(
                BackwardContext(
                    backward_fn=self.backward, response=response, prompt=x.value, system_prompt=system
                )
            )
            return response

    engine = _critic_engine()
    system_prompt = tg.Variable("Answer briefly.", role_description="system prompt")
    question = tg.Variable("What is 2+2?", role_description="question", requires_grad=False)
    out = Shouted(engine, system_prompt)(question)
    tg.TextLoss("Evaluate the answer.", engine=engine)(out).backward(engine)
    assert system_prompt.get_gradient_text() == "Ask for a calm tone."
    assert len(question.gradients) == 0  # it requires no gradient
    (gradient_call,) = [c for c in engine.calls if "You are the critic" in (c.system_prompt or "")][1:]
    # the gradient prompt shows the call this op made, and the feedback its output got
    assert "What is 2+2?" in gradient_call.prompt and "ANSWER TEXT" in gradient_call.prompt
    assert "The answer shouts." in gradient_call.prompt and "system prompt" in gradient_call.prompt
    assert (
        dict(system_prompt.gradients_context[system_prompt.gradients[0]])["response_desc"] == "shouted answer"
    )


def test_a_string_based_function_of_ones_own_with_backward_and_backward_static():
    from pytest_textgrad.autograd.string_based_ops import StringBasedFunction

    class Counter(StringBasedFunction):
        def __init__(self, static: bool):
            super().__init__(fn=self.forward, function_purpose="count the words")
            self.static = static

        def forward(self, text):
            response = tg.Variable(
                str(len(text.value.split())), predecessors=[text], role_description="word count"
            )
            backward = self.backward_static if self.static else self.backward
            response.set_grad_fn(
                BackwardContext(
                    backward_fn=backward,
                    response=response,
                    function_purpose=self.function_purpose,
                    inputs={"text": text},
                )
            )
            return response

    for static in (False, True):
        engine = _critic_engine()
        text = tg.Variable("one two three", role_description="draft")
        tg.TextLoss("Evaluate the count.", engine=engine)(Counter(static)(text)).backward(engine)
        assert text.get_gradient_text() == "Ask for a calm tone."
        prompt = engine.calls[-1].prompt
        assert "count the words" in prompt and "one two three" in prompt and "The answer shouts." in prompt


def test_in_context_examples_and_images_reach_textgrad_style_backward_calls():
    from pytest_textgrad.autograd import LLMCall_with_in_context_examples, MultimodalLLMCall

    engine = _critic_engine()
    draft = tg.Variable("Draft.", role_description="draft")
    image = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    out = tg.Variable("ok", predecessors=[draft], role_description="reply")
    out.gradients.add(tg.Variable("Too terse.", role_description="feedback to reply"))
    LLMCall_with_in_context_examples(engine).backward(out, "Q", None, ["A calm, full answer."], engine)
    MultimodalLLMCall(engine).backward(out, ["What is shown?", image], None, backward_engine=engine)
    tg.autograd.StringBasedFunction(len, "length").backward(out, "length", {"d": draft}, engine)
    assert len(draft.gradients) == 3  # one per call: the same text about three different calls
    assert len(engine.calls) == 3  # in the order the threads reached the engine, not the calls' order
    with_examples = [c for c in engine.calls if "A calm, full answer." in c.prompt]
    assert len(with_examples) == 1 and "Too terse." in with_examples[0].prompt
    with_image = [c for c in engine.calls if any(isinstance(m["content"], list) for m in c.messages)]
    assert len(with_image) == 1 and with_image[0] is not with_examples[0]  # the image is sent


def test_functional_llm_call():
    engine = ScriptedEngine(default="Paris")
    out = tg.autograd.functional.llm_call(
        tg.Variable("Capital of France?", role_description="question", requires_grad=False), engine
    )
    assert out.value == "Paris" and out.get_role_description() == "response from the language model"


# ----- smaller differences a TextGrad program would trip on ---------------------------------------------------
def test_roles_textgrad_accepts_empty_or_none_for_a_system_prompt():
    engine = ScriptedEngine(default="ok")
    assert tg.Variable("x", role_description="").value == "x"  # TextGrad accepts it; so do we
    system_prompt = tg.Variable("Be brief.", role_description=None)
    tg.BlackboxLLM(engine, system_prompt)
    # TextGrad's LLMCall gives a system prompt without a role its default role
    assert system_prompt.get_role_description() == tg.defaults.SYSTEM_PROMPT_DEFAULT_ROLE
    with pytest.raises(TypeError, match="role_description"):
        tg.Variable("x", role_description=3)


def test_optimizer_flags_and_assigning_the_singletons_engine():
    engine = ScriptedEngine(default="ok")
    x = tg.Variable("draft", role_description="draft")
    optimizer = tg.TGD([x], engine=engine, constraints=["short"], in_context_examples=["an example"])
    assert (optimizer.do_constrained, optimizer.do_in_context_examples, optimizer.do_gradient_memory) == (
        True,
        True,
        False,
    )
    assert not tg.TGD([x], engine=engine).do_in_context_examples
    tg.config.SingletonBackwardEngine().engine = engine  # TextGrad code sets (and clears) it this way
    assert tg.config.SingletonBackwardEngine().get_engine() is engine
    tg.config.SingletonBackwardEngine().engine = None
    assert tg.config.SingletonBackwardEngine().get_engine() is None


def test_generate_graph_shows_the_text_of_a_call_still_running():
    gate = threading.Event()
    engine = ScriptedEngine(default=lambda text: gate.wait(5) and "The code is O(n^2).")
    code = tg.Variable("def f(): pass", role_description="code instance to optimize")
    loss = tg.TextLoss("Evaluate the code.", engine=engine)(code)
    assert not loss.is_ready
    threading.Timer(0.05, gate.set).start()
    assert (
        "The code is O(n^2)." in loss.generate_graph().source
    )  # as in TextGrad's tutorial, right after the call


def test_signatures_follow_textgrads():
    import inspect

    from pytest_textgrad.tasks.mmlu import MMLUInstanceDataset

    # losses' forward keep their parameter names (TextGrad code calls them by keyword)
    assert list(inspect.signature(tg.loss.ImageQALoss.forward).parameters) == [
        "self",
        "image",
        "question",
        "response",
    ]
    assert list(inspect.signature(tg.TextLoss.forward).parameters) == ["self", "instance"]
    assert list(inspect.signature(MMLUInstanceDataset).parameters) == [
        "evaluation_api",
        "subset",
        "root",
        "split",
        "max_samples",
    ]


def test_sum_and_aggregate_backward_for_ops_of_ones_own():
    from pytest_textgrad.autograd.algebra import Aggregate, Sum

    for op in (Sum(), Aggregate()):
        a = tg.Variable("a", role_description="first")
        b = tg.Variable("b", role_description="second", requires_grad=False)
        joined = tg.Variable("a\nb", predecessors=[a, b], role_description="both")
        joined.set_grad_fn(BackwardContext(backward_fn=op.backward, **{_first_arg(op): joined}))
        joined.gradients.add(tg.Variable("Too short.", role_description="feedback to both"))
        joined.backward(ScriptedEngine(default="unused"))
        assert a.get_gradient_text() == "Too short." and len(b.gradients) == 0


def _first_arg(op) -> str:
    import inspect

    return next(iter(inspect.signature(op.backward).parameters))


def test_a_parameter_deep_copies_and_pickles_as_in_textgrad():
    import copy
    import pickle

    engine = _critic_engine()
    prompt = tg.Variable("Answer briefly.", role_description="system prompt")
    answer = tg.BlackboxLLM(engine, prompt)(
        tg.Variable("2+2?", role_description="question", requires_grad=False)
    )
    tg.TextLoss("Evaluate the answer.", engine=engine)(answer).backward(engine)
    best = copy.deepcopy(prompt)  # TextGrad code keeps its best prompt this way
    prompt.set_value("Answer at length.")
    assert best.value == "Answer briefly." and best.get_gradient_text() == "Ask for a calm tone."
    assert copy.deepcopy(answer).value == "answer text"  # a call's output: its text, once the call is done
    restored = pickle.loads(pickle.dumps(tg.Variable("Be kind.", role_description="system prompt")))
    assert (restored.value, restored.get_role_description()) == ("Be kind.", "system prompt")


def test_parse_output_reads_a_reply_cut_short_and_fails_as_textgrads_does():
    evaluation = tg.MultiFieldTokenParsedEvaluation(
        "Is the prediction right? Answer within <ACCURACY> </ACCURACY>.",
        role_descriptions=["prediction", "truth"],
        engine=ScriptedEngine(default="unused"),
    )
    # TextGrad reads what follows the opening tag when the reply lost its closing one
    assert (
        evaluation.parse_output(tg.Variable("Looks right. <ACCURACY> 1", role_description="verdict")) == "1"
    )
    assert evaluation.parse_output("<ACCURACY> 0 </ACCURACY> no: <ACCURACY> 1 </ACCURACY>") == "1"
    try:
        evaluation.parse_output("no verdict")
    except IndexError as error:  # what TextGrad raises; a ValueError too
        assert isinstance(error, ValueError) and "<ACCURACY>" in str(error)
    else:
        pytest.fail("no tag, no verdict")


def test_gradients_take_the_set_methods_textgrad_code_uses():
    x = tg.Variable("draft", role_description="draft")
    first, second = (tg.Variable(t, role_description="feedback to draft") for t in ("Shorter.", "Kinder."))
    x.gradients.update([first], {second})
    kept = x.gradients.copy()
    x.gradients.clear()
    assert [g.value for g in kept] == ["Shorter.", "Kinder."] and x.gradients == set()
    x.gradients |= {first}
    assert first in x.gradients and len(x.gradients) == 1
