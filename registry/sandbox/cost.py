"""What a run costs, estimated: compute (task size x duration at Fargate's prices from settings)
plus the calls the template declares a price for (`costEstimate` of MCP tools, `costTracking`
of SaaS integrations), once per test case for every agent step that uses them; and the model calls
at the price table's prices per 1M tokens."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..settings import Settings


def _priced_uses(manifest: dict[str, Any]) -> dict[str, dict[str, float]]:
    prices: dict[str, dict[str, float]] = {}
    for server in manifest.get("mcpServers") or []:
        for tool in server.get("tools") or []:
            if tool.get("costEstimate"):
                prices[f"mcp:{server['serverId']}/{tool['name']}"] = tool["costEstimate"]
    for saas in manifest.get("saasIntegrations") or []:
        tracking = (saas.get("configuration") or {}).get("costTracking")
        if tracking:
            prices[f"saas:{saas['provider']}/{saas['service']}"] = tracking
    return prices


def calls_per_case(manifest: dict[str, Any]) -> float:
    """Declared price of one pass through the agent's steps (every priced tool once when the
    template has no steps). Per-second and per-token prices need figures nobody declares: not counted."""
    prices = _priced_uses(manifest)
    steps = (manifest.get("agentConfig") or {}).get("steps") or []
    uses = [step["uses"] for step in steps] if steps else list(prices)
    return sum(float(prices.get(use, {}).get("perCallUsd", 0.0)) for use in uses)


def estimate(settings: Settings, manifest: dict[str, Any], cases: int, duration_s: float) -> dict[str, float]:
    memory_gb = settings.sandbox_memory_mb / 1024
    compute = duration_s * (settings.sandbox_vcpu * settings.price_vcpu_second + memory_gb * settings.price_gb_second)
    calls = cases * calls_per_case(manifest)
    return {"compute_usd": round(compute, 8), "calls_usd": round(calls, 8), "total_usd": round(compute + calls, 8)}


def budget(manifest: dict[str, Any]) -> float | None:
    value = (manifest.get("budget") or {}).get("maxRunUsd")
    return float(value) if value is not None else None


def model_price(settings: Settings, kind: str | None = None, model: str | None = None) -> tuple[float, float] | None:
    """USD per 1M input and output tokens of `model` (the configured provider's by default), from
    the one price table (settings.model_prices): `kind:model` first, then the model's name."""
    kind = kind or settings.sandbox_provider_kind
    model = model or settings.sandbox_provider_model
    return settings.model_prices.get(f"{kind}:{model}") or settings.model_prices.get(model)


def with_model(price: dict[str, float], report: dict[str, Any] | None) -> dict[str, float]:
    """A run's estimate plus what its model calls cost (the runner priced them: `model_usd`)."""
    model = float((report or {}).get("model_usd") or 0.0)
    return {**price, "model_usd": round(model, 8), "total_usd": round(price["total_usd"] + model, 8)}
