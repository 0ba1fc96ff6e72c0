"""TextGrad's engine classes reach a real OpenAI-compatible server (llama.cpp on 127.0.0.1)."""

from __future__ import annotations

import pytest
from openai import OpenAI

from pytest_textgrad.engine.local_model_openai_api import ChatExternalClient

pytestmark = pytest.mark.integration


def test_chat_external_client_calls_the_server_through_our_engine(llama_server):
    client = OpenAI(base_url=llama_server, api_key="sk-local")
    engine = ChatExternalClient(client=client, model_string="smollm2", max_tokens=12)
    assert (engine.model_string, engine.model, engine.api_base) == ("smollm2", "openai/smollm2", llama_server)
    reply = engine("Say hello.")  # TextGrad calls engines like this, with its default system prompt
    assert reply.strip()
    report = engine.usage.report()
    assert report.total.calls == 1 and report.total.completion_tokens > 0
