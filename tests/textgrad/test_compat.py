"""TextGrad 0.1.8's module paths, engine classes, get_engine names, TGD and tasks (issue 10)."""

from __future__ import annotations

import importlib
import inspect
import json

import httpx
import pytest

import pytest_textgrad as tg
from pytest_textgrad.engines.litellm_engine import LiteLLMEngine
from pytest_textgrad.engines.names import UnknownEngineError

# Every module path and name of TextGrad 0.1.8 that its package __init__ files export or that its
# tutorials and evaluation scripts import.
TEXTGRAD_NAMES = {
    "": "Variable TextLoss BlackboxLLM EngineLM get_engine TextualGradientDescent TGD set_backward_engine "
    "SingletonBackwardEngine sum aggregate singleton_backward_engine logger",
    "autograd": "sum aggregate LLMCall FormattedLLMCall LLMCall_with_in_context_examples MultimodalLLMCall "
    "OrderedFieldsMultimodalLLMCall Module StringBasedFunction",
    "autograd.function": "Function BackwardContext Module",
    "autograd.functional": "sum aggregate formatted_llm_call",
    "autograd.algebra": "Sum Aggregate",
    "autograd.llm_ops": "LLMCall FormattedLLMCall LLMCall_with_in_context_examples",
    "autograd.multimodal_ops": "MultimodalLLMCall OrderedFieldsMultimodalLLMCall",
    "autograd.string_based_ops": "StringBasedFunction",
    "autograd.llm_backward_prompts": "GLOSSARY_TEXT_BACKWARD BACKWARD_SYSTEM_PROMPT CONVERSATION_TEMPLATE "
    "CONVERSATION_START_INSTRUCTION_CHAIN OBJECTIVE_INSTRUCTION_CHAIN CONVERSATION_START_INSTRUCTION_BASE "
    "OBJECTIVE_INSTRUCTION_BASE EVALUATE_VARIABLE_INSTRUCTION SEARCH_QUERY_BACKWARD_INSTRUCTION "
    "GRADIENT_OF_RESULTS_INSTRUCTION IN_CONTEXT_EXAMPLE_PROMPT_ADDITION",
    "autograd.multimodal_backward_prompts": "MULTIMODAL_CONVERSATION_TEMPLATE",
    "autograd.reduce_prompts": "REDUCE_MEAN_SYSTEM_PROMPT construct_reduce_prompt",
    "config": "SingletonBackwardEngine set_backward_engine validate_engine_or_get_default",
    "defaults": "SYSTEM_PROMPT_DEFAULT_ROLE VARIABLE_INPUT_DEFAULT_ROLE VARIABLE_OUTPUT_DEFAULT_ROLE",
    "engine": "EngineLM CachedEngine get_engine validate_multimodal_engine",
    "engine.base": "EngineLM CachedEngine",
    "engine.openai": "ChatOpenAI AzureChatOpenAI OLLAMA_BASE_URL",
    "engine.anthropic": "ChatAnthropic",
    "engine.gemini": "ChatGemini",
    "engine.together": "ChatTogether",
    "engine.cohere": "ChatCohere",
    "engine.groq": "ChatGroq",
    "engine.vllm": "ChatVLLM",
    "engine.bedrock": "ChatBedrockEngine",
    "engine.local_model_openai_api": "ChatExternalClient",
    "engine.guidance": "GuidanceEngine",
    "engine.engine_utils": "get_image_type_from_bytes is_jpeg is_png",
    "engine_experimental": "LiteLLMEngine OpenAIEngine",
    "engine_experimental.base": "EngineLM cached",
    "engine_experimental.litellm": "LiteLLMEngine",
    "engine_experimental.openai": "OpenAIEngine",
    "engine_experimental.engine_utils": "open_ai_like_formatting",
    "loss": "TextLoss MultiFieldEvaluation MultiFieldTokenParsedEvaluation MultiChoiceTestTime ImageQALoss",
    "model": "BlackboxLLM",
    "optimizer": "TextualGradientDescent TGD Optimizer TextualGradientDescentwithMomentum",
    "optimizer.optimizer": "TextualGradientDescent Optimizer TextualGradientDescentwithMomentum "
    "get_gradient_and_context_text",
    "optimizer.guidance_optimizer": "GuidedTextualGradientDescent",
    "optimizer.optimizer_prompts": "OPTIMIZER_SYSTEM_PROMPT GRADIENT_TEMPLATE GRADIENT_MULTIPART_TEMPLATE "
    "construct_tgd_prompt",
    "prompts": "GRADIENT_TEMPLATE",
    "tasks": "load_task load_instance_task DataLoader Dataset LeetCodeHardEval",
    "tasks.gpqa": "GPQA GPQAInstanceDataset QUERY_TEMPLATE_MULTICHOICE eval_string_based",
    "tasks.leetcode": "LeetCodeHardEval",
    "tasks.multimodal": "load_multimodal_instance_task",
    "tasks.multimodal.mathvista": "MathVistaDataset compress_image verify_extraction create_test_prompt "
    "extract_answer get_most_similar normalize_extracted_answer safe_equal",
    "tasks.multimodal.scienceqa": "ScienceQADataset compress_image preprocess_text find_most_similar_choice "
    "extract_answer normalize_extracted_answer safe_equal",
    "tasks.base": "DataLoader Dataset",
    "tasks.big_bench_hard": "BigBenchHard string_based_equality_fn",
    "tasks.gsm8k": "GSM8K GSM8K_DSPy",
    "tasks.mmlu": "MMLU MMLUInstanceDataset",
    "utils.image_utils": "is_valid_url download_and_cache_image",
    "variable": "Variable",
}


@pytest.mark.parametrize("module", sorted(TEXTGRAD_NAMES))
def test_every_textgrad_module_path_and_name_exists(module):
    imported = importlib.import_module(f"pytest_textgrad.{module}".rstrip("."))
    missing = [name for name in TEXTGRAD_NAMES[module].split() if getattr(imported, name, None) is None]
    assert not missing, f"pytest_textgrad.{module} lacks {missing}"


# ----- engines -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "model", "options"),
    [
        ("sonnet-3.5", "claude-3-5-sonnet-20240620", {}),
        ("haiku", "claude-3-haiku-20240307", {}),
        ("opus", "claude-3-opus-20240229", {}),
        ("together-llama-3-70b", "together_ai/meta-llama/Llama-3-70b-chat-hf", {}),
        ("vllm-llama-3-8b", "hosted_vllm/meta-llama/Meta-Llama-3-8B-Instruct", {}),
        ("groq-llama3-70b-8192", "groq/llama3-70b-8192", {}),
        ("azure-gpt-4o", "azure/gpt-4o", {}),
        ("command-r", "cohere/command-r", {}),
        ("ollama-llama3", "openai/llama3", {"api_base": "http://ollama.test:11434/v1"}),
        ("experimental:anything-goes", "anything-goes", {}),
    ],
)
def test_tg_get_engine_knows_textgrads_names(name, model, options, monkeypatch):
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://ollama.test:11434/v1")
    engine = tg.get_engine(name, cache=False)
    assert isinstance(engine, LiteLLMEngine) and engine.model == model
    for key, value in options.items():
        assert getattr(engine, key) == value


def test_an_unknown_name_fails_at_once():
    with pytest.raises(UnknownEngineError, match="not supported") as raised:
        tg.get_engine("no-such-engine-anywhere")
    assert isinstance(raised.value, ValueError)


def test_textgrad_engine_classes_check_their_keys_and_map_to_litellm(monkeypatch):
    from pytest_textgrad.engine.anthropic import ChatAnthropic
    from pytest_textgrad.engine.groq import ChatGroq

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        ChatAnthropic()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    claude = ChatAnthropic(is_multimodal=True)
    assert (claude.model_string, claude.model, claude.is_multimodal) == (
        "claude-3-opus-20240229",
        "anthropic/claude-3-opus-20240229",
        True,
    )
    monkeypatch.setenv("GROQ_API_KEY", "k")
    assert ChatGroq("groq-llama3-8b").model == "groq/llama3-8b"
    signature = inspect.signature(ChatAnthropic)
    assert list(signature.parameters)[:3] == ["model_string", "system_prompt", "is_multimodal"]


def test_textgrad_get_engine_keeps_its_cache_and_seed_rules(monkeypatch):
    from pytest_textgrad.engine import get_engine

    monkeypatch.setenv("OPENAI_API_KEY", "k")
    with pytest.raises(ValueError, match="Cache is currently supported only"):
        get_engine("gpt-4o", cache=False)
    with pytest.raises(ValueError, match="Seed is currently supported only"):
        get_engine("claude-3-haiku-20240307", seed=1)
    assert get_engine("gpt-4o").is_multimodal and not get_engine("gpt-3.5-turbo").is_multimodal
    assert tg.get_engine("gpt-4o", cache=False).cache is None  # ours accepts cache= for any engine


def test_a_non_multimodal_textgrad_engine_refuses_images(monkeypatch):
    from pytest_textgrad.engine.openai import ChatOpenAI

    monkeypatch.setenv("OPENAI_API_KEY", "k")
    with pytest.raises(NotImplementedError, match="is_multimodal"):
        ChatOpenAI().generate(["what is this?", b"\x89PNG\r\n\x1a\n"])


def test_set_backward_engine_takes_engine_options_and_the_singleton_sees_it():
    tg.set_backward_engine("experimental:gpt-4o", override=True, cache=False)
    engine = tg.SingletonBackwardEngine().get_engine()
    assert isinstance(engine, LiteLLMEngine) and engine.model == "gpt-4o" and engine.cache is None
    assert tg.singleton_backward_engine.get_engine() is engine
    with pytest.raises(RuntimeError, match="override=True"):
        tg.set_backward_engine(tg.ScriptedEngine(default="x"))


def test_experimental_cached_decorator_hits_across_instances(tmp_path):
    import diskcache

    from pytest_textgrad.engine_experimental.base import EngineLM, cached

    class Counting(EngineLM):
        calls = 0

        @cached
        def _generate_from_single_prompt(self, content, system_prompt=None, **kwargs):
            Counting.calls += 1
            return content.upper()

        def _generate_from_multiple_input(self, content, system_prompt=None, **kwargs):
            raise NotImplementedError

    cache = diskcache.Cache(str(tmp_path / "c"))
    assert Counting("m", cache=cache).generate("hi") == "HI" == Counting("m", cache=cache).generate("hi")
    assert Counting.calls == 1
    with pytest.raises(ValueError, match=r"diskcache\.Cache object or a boolean"):
        Counting("m", cache=[1, 2, 3])


# ----- TGD -------------------------------------------------------------------------------------------
def _update_engine(new: str = "better") -> tg.ScriptedEngine:
    return tg.ScriptedEngine(rules={"The text to improve": {"reasoning": "", "improved_variable": new}})


def test_tgd_has_textgrads_positional_signature():
    parameters = list(inspect.signature(tg.TGD).parameters)
    assert parameters[:8] == [
        "parameters",
        "verbose",
        "engine",
        "constraints",
        "new_variable_tags",
        "optimizer_system_prompt",
        "in_context_examples",
        "gradient_memory",
    ]


def test_optimizer_system_prompt_is_used_with_its_tags_filled(capsys):
    engine = _update_engine()
    v = tg.Variable("old", role_description="text")
    v.gradients.add(tg.Variable("improve it", role_description="feedback"))
    custom = "You rewrite text. Put it between {new_variable_start_tag} and {new_variable_end_tag}."
    tg.TGD([v], 1, engine, None, ["<NEW>", "</NEW>"], custom).step()
    assert engine.calls[0].system_prompt == "You rewrite text. Put it between <NEW> and </NEW>."
    assert v.value == "better"
    # verbose: TextGrad's print, a rule and the new value
    assert (
        capsys.readouterr().out
        == "-----------------------TextualGradientDescent------------------------\nbetter\n"
    )


def test_gradient_memory_is_recorded_and_shown():  # TextGrad records it but never shows it
    engine = tg.ScriptedEngine(queue=[{"reasoning": "", "improved_variable": f"v{i}"} for i in (1, 2)])
    v = tg.Variable("v0", role_description="text")
    optimizer = tg.TGD([v], engine=engine, gradient_memory=2)
    for feedback in ("first feedback", "second feedback"):
        optimizer.zero_grad()
        v.gradients.add(tg.Variable(feedback, role_description="feedback"))
        optimizer.step()
    assert v.value == "v2"
    assert optimizer.get_gradient_memory_text(v) == (
        "\n<FEEDBACK-1> first feedback</FEEDBACK-1>\n\n<FEEDBACK-2> second feedback</FEEDBACK-2>\n"
    )
    assert "v0" in engine.calls[1].prompt and "first feedback" in engine.calls[1].prompt
    optimizer.update_gradient_memory(v)
    assert len(optimizer.gradient_memory_dict[v]) == 3


def test_tgd_with_momentum_works():  # TextGrad 0.1.8's _update_prompt returns None, so step() fails
    from pytest_textgrad.optimizer import TextualGradientDescentwithMomentum

    engine = tg.ScriptedEngine(queue=[{"reasoning": "", "improved_variable": f"v{i}"} for i in (1, 2)])
    v = tg.Variable("v0", role_description="text")
    optimizer = TextualGradientDescentwithMomentum(engine, [v], momentum_window=3)
    for feedback in ("too long", "too vague"):
        optimizer.zero_grad()
        v.gradients.add(tg.Variable(feedback, role_description="feedback"))
        optimizer.step()
    assert v.value == "v2"
    assert optimizer.momentum_storage == [
        [{"value": "v0", "gradients": "too long"}, {"value": "v1", "gradients": "too vague"}]
    ]
    assert "PAST_VERSION" in engine.calls[1].prompt and "too long" in engine.calls[1].prompt


def test_an_unusable_update_keeps_the_value_instead_of_index_error():  # deliberate difference
    engine = tg.ScriptedEngine(default="I would rather not.", supports_json_schema=False)
    v = tg.Variable("keep me", role_description="text")
    v.gradients.add(tg.Variable("change", role_description="feedback"))
    with pytest.warns(tg.UpdateWarning):
        tg.TGD([v], engine=engine).step()
    assert v.value == "keep me"


# ----- tasks -------------------------------------------------------------------------------------
def test_data_loader_batches_and_transposes():
    data = [(f"q{i}", str(i)) for i in range(7)]
    batches = list(tg.tasks.DataLoader(data, batch_size=3, shuffle=False))
    assert batches[0] == (("q0", "q1", "q2"), ("0", "1", "2")) and len(batches) == 3
    shuffled = [x for xs, _ in tg.tasks.DataLoader(data, batch_size=3) for x in xs]
    assert sorted(shuffled) == sorted(x for x, _ in data)


def test_a_task_offline_says_where_to_put_the_data(tmp_path, monkeypatch):
    from pytest_textgrad.tasks import DatasetUnavailable, load_task

    monkeypatch.setenv("TG_DATA_DIR", str(tmp_path))

    def offline(url, **kwargs):
        raise httpx.ConnectError("no network", request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", offline)
    with pytest.raises(DatasetUnavailable, match=r"offline\?.*word_sorting\.json"):
        load_task("BBH_word_sorting", evaluation_api=tg.ScriptedEngine(default="x"))
    # the same task from a local copy (BIG-Bench Hard's JSON layout) works, and is split 50/100/rest
    examples = [{"input": f"sort {i}", "target": f"{i}"} for i in range(155)]
    (tmp_path / "word_sorting.json").write_text(json.dumps({"examples": examples}))
    train, val, test, eval_fn = load_task("BBH_word_sorting", evaluation_api=tg.ScriptedEngine(default="x"))
    assert (len(train), len(val), len(test)) == (50, 100, 5) and val[0] == ("sort 50", "50")
    assert isinstance(eval_fn, tg.MultiFieldTokenParsedEvaluation)
    with pytest.raises(ValueError, match="not found"):
        load_task("no_such_task", evaluation_api=None)


def test_guidance_engine_is_not_provided_and_says_so():
    from pytest_textgrad.engine.guidance import GuidanceEngine

    with pytest.raises(ImportError, match="pip install guidance"):
        GuidanceEngine()


def test_importing_writes_no_log_files(tmp_path):  # TextGrad writes ./logs/<time>.jsonl at import
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-c", "import pytest_textgrad as tg; tg.logger.info('x')"], cwd=tmp_path, check=True
    )
    assert list(tmp_path.iterdir()) == []


def test_hugging_face_tasks_say_which_package_they_need(monkeypatch, tmp_path):
    import sys

    from pytest_textgrad.tasks import DatasetUnavailable, load_task

    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed
    with pytest.raises(DatasetUnavailable, match="pip install datasets"):
        load_task("GSM8K_DSPy", evaluation_api=None, root=str(tmp_path))


def test_textgrads_prompt_builders_work_on_our_prompts():
    from pytest_textgrad.optimizer.optimizer import get_gradient_and_context_text
    from pytest_textgrad.optimizer.optimizer_prompts import construct_tgd_prompt

    prompt = construct_tgd_prompt(
        do_constrained=True,
        variable_desc="system prompt",
        variable_value="Be brief.",
        variable_grad="mention the refund window",
        constraint_text="Constraint 1: under 50 words",
        new_variable_start_tag="<NEW>",
        new_variable_end_tag="</NEW>",
    )
    assert "Be brief." in prompt and "mention the refund window" in prompt and "under 50 words" in prompt
    assert "<NEW>" in prompt
    v = tg.Variable("x", role_description="text")
    g = tg.Variable("shorter", role_description="feedback")
    v.gradients.add(g)
    v.gradients_context[g] = {"context": "Q: hi A: hello", "response_desc": "reply", "variable_desc": "text"}
    text = get_gradient_and_context_text(v)
    assert "Q: hi A: hello" in text and "<FEEDBACK>shorter</FEEDBACK>" in text and "used as reply" in text
