"""The model a sandbox run may ask: an OpenAI- or Anthropic-compatible HTTP endpoint, configured
by the environment of the run (SANDBOX_PROVIDER_URL, _KIND, _MODEL, _KEY). Without a URL there
is no provider, and assertions that target the model's output fail saying so."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..settings import Settings


class ProviderError(RuntimeError):
    pass


@dataclass(frozen=True)
class Provider:
    url: str
    kind: str  # openai | anthropic
    model: str
    key: str | None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.model}"

    def complete(self, system: str, user: str, constraints: dict[str, Any]) -> str:
        import httpx

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
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=60)
            response.raise_for_status()
            data = response.json()
            if self.kind == "anthropic":
                return "".join(part.get("text", "") for part in data["content"])
            return data["choices"][0]["message"]["content"] or ""
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise ProviderError(f"{self.name} at {url}: {type(exc).__name__}: {exc}"[:300]) from None


def from_env(environ: dict[str, str] | None = None) -> Provider | None:
    env = os.environ if environ is None else environ
    url = env.get("SANDBOX_PROVIDER_URL")
    if not url:
        return None
    return Provider(url, env.get("SANDBOX_PROVIDER_KIND", "openai"), env.get("SANDBOX_PROVIDER_MODEL", "gpt-4o-mini"),
                    env.get("SANDBOX_PROVIDER_KEY") or None)


def env_from_settings(settings: Settings) -> dict[str, str]:
    """The variables that configure a run's provider, from the registry's settings."""
    if not settings.sandbox_provider_url:
        return {}
    env = {"SANDBOX_PROVIDER_URL": settings.sandbox_provider_url, "SANDBOX_PROVIDER_KIND": settings.sandbox_provider_kind,
           "SANDBOX_PROVIDER_MODEL": settings.sandbox_provider_model}
    if settings.sandbox_provider_key:
        env["SANDBOX_PROVIDER_KEY"] = settings.sandbox_provider_key
    return env
