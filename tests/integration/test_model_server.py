"""The tests' model server (tests/modelserver.py) over real HTTP, and the sandbox's provider client
against it: deterministic answers, `usage` tokens, latency, and bounded retries with backoff on the
429s and 5xx a test plants."""
from __future__ import annotations

import json

import httpx
import pytest

from registry.sandbox import provider


def _client(server, kind="openai", attempts=4, waits=None):
    def sleep(seconds):
        (waits if waits is not None else []).append(seconds)

    env = server.env(kind, "m1")
    env["SANDBOX_PROVIDER_ATTEMPTS"] = str(attempts)
    env["SANDBOX_PROVIDER_BACKOFF_S"] = "0.01"
    model = provider.from_env(env)
    return provider.Provider(model.url, model.kind, model.model, model.key, attempts=model.attempts,
                             backoff_s=model.backoff_s, sleep=sleep)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_answers_from_the_prompt_with_usage(model_server, kind):
    done = _client(model_server, kind).call("be brief", "say   hello world", {"maxTokens": 50})
    assert done.text == "SAY HELLO WORLD"
    assert (done.input_tokens, done.output_tokens, done.attempts) == (5, 3, 1) and done.latency_ms > 0
    seen = model_server.model_calls()[0]
    assert seen["path"] == ("/v1/messages" if kind == "anthropic" else "/v1/chat/completions")
    assert seen["body"]["model"] == "m1" and seen["body"]["max_tokens"] == 50
    assert seen["headers"].get("x-api-key" if kind == "anthropic" else "authorization") in ("test-key", "Bearer test-key")


def test_planted_reply_coin_and_grading_are_deterministic(model_server):
    client = _client(model_server)
    assert client.complete("", 'text\nreply: {"a": 1}\nmore', {}) == '{"a": 1}'
    flips = [client.complete("", "coin: 0.5", {}) for _ in range(40)]
    assert set(flips) == {"heads", "tails"}
    model_server.reset()
    assert [client.complete("", "coin: 0.5", {}) for _ in range(40)] == flips  # same seed, same sequence
    assert {client.complete("", "coin: 1", {}) for _ in range(5)} == {"heads"}
    graded = json.loads(client.complete("grader", "RUBRIC: names 'Paris' and \"France\"\nANSWER: paris is nice", {}))
    assert graded == {"pass": False, "score": 0.5, "reason": "missing 'France'"}


def test_429_and_5xx_are_retried_with_backoff_honouring_retry_after(model_server):
    waits: list[float] = []
    client = _client(model_server, waits=waits)
    model_server.fail(429, times=1, retry_after=0.2)
    model_server.fail(503, times=2)
    done = client.call("", "hi there", {})
    assert done.text == "HI THERE" and done.attempts == 4
    assert [r["status"] for r in model_server.requests] == [429, 503, 503, 200]
    assert waits[0] >= 0.2  # Retry-After beats the shorter backoff
    assert 0.005 <= waits[1] <= 0.02 and 0.01 <= waits[2] <= 0.04  # doubling, with jitter


def test_retries_are_bounded_and_client_errors_are_not_retried(model_server):
    client = _client(model_server, attempts=3)
    model_server.fail(500, times=5)
    with pytest.raises(provider.ProviderError, match="HTTP 500 after 3 attempts"):
        client.call("", "x", {})
    assert len(model_server.requests) == 3
    model_server.reset()
    model_server.fail(400, times=1)
    with pytest.raises(provider.ProviderError, match="400"):
        client.call("", "x", {})
    assert len(model_server.requests) == 1


def test_delays_show_in_latency_and_admin_endpoint_controls_faults(model_server):
    client = _client(model_server)
    slow = client.call("", "delay-ms: 150\nhello", {})
    assert slow.latency_ms >= 150
    httpx.post(f"http://127.0.0.1:{model_server.port}/admin/faults", json={"status": 502, "times": 1}).raise_for_status()
    assert client.call("", "again", {}).attempts == 2
    seen = httpx.get(f"http://127.0.0.1:{model_server.port}/admin/requests").json()
    assert [r["status"] for r in seen][-2:] == [502, 200]
