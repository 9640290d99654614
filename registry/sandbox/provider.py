"""The model a sandbox run may ask: an OpenAI- or Anthropic-compatible HTTP endpoint, configured
by the environment of the run (SANDBOX_PROVIDER_URL, _KIND, _MODEL, _KEY). Without a URL there
is no provider, and assertions that target the model's output fail saying so.

A call retries 429s, 5xx and connection failures with exponential backoff and jitter (at most
SANDBOX_PROVIDER_ATTEMPTS attempts, honouring a short `Retry-After`), and reports the tokens the
provider counted (`usage`; estimated when it sends none) and the latency of the call."""
from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from ..settings import Settings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
MAX_RETRY_AFTER_S = 30.0


class ProviderError(RuntimeError):
    pass


def estimate_tokens(text: str) -> int:
    """About four characters a token: the usual estimate for English with BPE tokenizers."""
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    latency_ms: float  # the successful attempt's, plus the waits and failed attempts before it
    attempts: int = 1


@dataclass(frozen=True)
class Provider:
    url: str
    kind: str  # openai | anthropic
    model: str
    key: str | None
    attempts: int = 4
    backoff_s: float = 0.5
    timeout_s: float = 60.0
    sleep: Any = field(default=time.sleep, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.model}"

    def complete(self, system: str, user: str, constraints: dict[str, Any]) -> str:
        return self.call(system, user, constraints).text

    def _request(self, system: str, user: str, constraints: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
        max_tokens = int(constraints.get("maxTokens", 1024))
        if self.kind == "anthropic":
            url, headers = f"{self.url.rstrip('/')}/v1/messages", {"anthropic-version": "2023-06-01"}
            if self.key:
                headers["x-api-key"] = self.key
            body: dict[str, Any] = {"model": self.model, "max_tokens": max_tokens, "system": system,
                                    "messages": [{"role": "user", "content": user}]}
        else:
            url, headers = f"{self.url.rstrip('/')}/chat/completions", {}
            if self.key:
                headers["authorization"] = f"Bearer {self.key}"
            body = {"model": self.model, "max_tokens": max_tokens,
                    "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]}
        if "temperature" in constraints:
            body["temperature"] = constraints["temperature"]
        return url, headers, body

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        delay: float = self.backoff_s * (2.0 ** (attempt - 1)) * (0.5 + random.random() / 2)
        header = response.headers.get("retry-after") if response is not None else None
        if header:
            try:
                delay = max(delay, min(float(header), MAX_RETRY_AFTER_S))
            except ValueError:
                pass  # an HTTP date: the backoff stands
        return delay

    def call(self, system: str, user: str, constraints: dict[str, Any]) -> Completion:
        import httpx

        url, headers, body = self._request(system, user, constraints)
        began = time.perf_counter()
        last = ""
        for attempt in range(1, max(1, self.attempts) + 1):
            response = None
            try:
                response = httpx.post(url, json=body, headers=headers, timeout=self.timeout_s)
                if response.status_code in RETRY_STATUSES:
                    last = f"HTTP {response.status_code}"
                else:
                    response.raise_for_status()
                    return self._parse(response.json(), system, user, began, attempt)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                raise ProviderError(f"{self.name} at {url}: {type(exc).__name__}: {exc}"[:300]) from None
            if attempt < self.attempts:
                self.sleep(self._wait(attempt, response))
        raise ProviderError(f"{self.name} at {url}: {last} after {self.attempts} attempts"[:300])

    def _parse(self, data: dict[str, Any], system: str, user: str, began: float, attempt: int) -> Completion:
        if self.kind == "anthropic":
            text = "".join(part.get("text", "") for part in data["content"])
            usage = data.get("usage") or {}
            used = (usage.get("input_tokens"), usage.get("output_tokens"))
        else:
            text = data["choices"][0]["message"]["content"] or ""
            usage = data.get("usage") or {}
            used = (usage.get("prompt_tokens"), usage.get("completion_tokens"))
        if not isinstance(text, str):
            raise TypeError("the answer is not text")
        tokens_in = used[0] if isinstance(used[0], int) and used[0] >= 0 else estimate_tokens(system) + estimate_tokens(user)
        tokens_out = used[1] if isinstance(used[1], int) and used[1] >= 0 else estimate_tokens(text)
        latency = round((time.perf_counter() - began) * 1000, 3)
        return Completion(text, tokens_in, tokens_out, latency, attempt)


def from_env(environ: dict[str, str] | None = None) -> Provider | None:
    env = os.environ if environ is None else environ
    url = env.get("SANDBOX_PROVIDER_URL")
    if not url:
        return None
    try:
        attempts = max(1, min(10, int(env.get("SANDBOX_PROVIDER_ATTEMPTS", "4"))))
        backoff = max(0.0, min(10.0, float(env.get("SANDBOX_PROVIDER_BACKOFF_S", "0.5"))))
    except ValueError:
        attempts, backoff = 4, 0.5
    return Provider(url, env.get("SANDBOX_PROVIDER_KIND", "openai"), env.get("SANDBOX_PROVIDER_MODEL", "gpt-4o-mini"),
                    env.get("SANDBOX_PROVIDER_KEY") or None, attempts=attempts, backoff_s=backoff)


def env_from_settings(settings: Settings) -> dict[str, str]:
    """The variables that configure a run's provider, from the registry's settings."""
    if not settings.sandbox_provider_url:
        return {}
    env = {"SANDBOX_PROVIDER_URL": settings.sandbox_provider_url, "SANDBOX_PROVIDER_KIND": settings.sandbox_provider_kind,
           "SANDBOX_PROVIDER_MODEL": settings.sandbox_provider_model,
           "SANDBOX_PROVIDER_ATTEMPTS": str(settings.sandbox_provider_attempts),
           "SANDBOX_PROVIDER_BACKOFF_S": str(settings.sandbox_provider_backoff_s)}
    if settings.sandbox_provider_key:
        env["SANDBOX_PROVIDER_KEY"] = settings.sandbox_provider_key
    return env
