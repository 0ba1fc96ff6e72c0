"""ExchangeReplayer: recorded replies in recorded order, repeats, misses."""

from __future__ import annotations

from pytest_textgrad.plugin.capture.http import Exchange, ExchangeReplayer, RecordedRequest, RecordedResponse


def _request(text: str) -> RecordedRequest:
    return RecordedRequest(
        "POST", "https://api.openai.com/v1/chat/completions", [], f'{{"q": "{text}"}}'.encode()
    )


def _exchange(text: str, reply: str) -> Exchange:
    return Exchange(_request(text), RecordedResponse.json_reply({"reply": reply}))


def test_same_request_gets_recorded_replies_in_turn_then_the_last_repeats() -> None:
    replayer = ExchangeReplayer([_exchange("a", "1"), _exchange("b", "x"), _exchange("a", "2")])
    assert len(replayer) == 3
    replies = [replayer(_request("a")).json()["reply"] for _ in range(3)]
    assert replies == ["1", "2", "2"]
    assert replayer(_request("b")).json() == {"reply": "x"}
    assert replayer.misses == []


def test_without_repeat_used_up_replies_and_unknown_requests_are_misses() -> None:
    replayer = ExchangeReplayer([_exchange("a", "1")], repeat=False)
    assert replayer(_request("a")) is not None
    assert replayer(_request("a")) is None
    assert replayer(_request("zzz")) is None
    assert [m.body for m in replayer.misses] == [b'{"q": "a"}', b'{"q": "zzz"}']


def test_exchange_round_trips_through_a_dict_binary_bodies_included() -> None:
    exchange = Exchange(
        RecordedRequest(
            "POST", "https://x/y", [("content-type", "application/octet-stream")], b"\x00\xff\x10"
        ),
        RecordedResponse(201, [("content-type", "text/plain")], "héllo".encode(), "Created"),
        source="network",
    )
    data = exchange.to_dict()
    assert "base64" in data["request"]["body"] and data["response"]["body"] == {"text": "héllo"}
    back = Exchange.from_dict(data, source="replay")
    assert (back.request, back.response, back.source) == (exchange.request, exchange.response, "replay")
