"""Budgets: hard limits on a run, checked before each model call, and what a run has used so far.

Cost comes from the `genai-prices` table (maintained upstream), never from hand-written prices. A
model it does not know has no price; a cost budget then refuses to start rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from seer.agent.messages import Usage
from seer.errors import SpecError

__all__ = ["Budget", "Spent", "price_usd"]

Limit = Literal["turns", "tokens", "cost_usd", "wall_s"]

_PRICE_PROVIDERS = {"anthropic": "anthropic", "openai": "openai", "claude-code": "anthropic"}


def price_usd(provider: str, model: str, usage: Usage) -> float | None:
    """What `usage` costs on `model`, or `None` when the price table does not know the model."""
    if provider == "scripted":
        return 0.0
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    try:
        price = calc_price(
            PriceUsage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
            ),
            model_ref=model,
            provider_id=_PRICE_PROVIDERS.get(provider),
        )
    except LookupError:
        return None
    return float(price.total_price)


@dataclass
class Spent:
    """What a run has used."""

    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    cost_known: bool = True
    wall_s: float = 0.0

    @property
    def tokens(self) -> int:
        return self.usage.total_tokens

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "turns": self.turns,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            "cache_read_tokens": self.usage.cache_read_tokens,
            "cache_write_tokens": self.usage.cache_write_tokens,
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "cost_known": self.cost_known,
            "wall_s": round(self.wall_s, 3),
        }


@dataclass(frozen=True)
class Budget:
    """Hard limits for one run; `None` means no limit."""

    turns: int | None = 60
    """Model calls."""
    tokens: int | None = None
    """Input plus output tokens, summed over all model calls."""
    cost_usd: float | None = 5.0
    """Dollars, from the price table."""
    wall_s: float | None = 3600.0
    """Seconds since the run started (resumed runs count their earlier time too)."""

    def exhausted(self, spent: Spent) -> tuple[Limit, str] | None:
        """The first limit `spent` has reached, with a readable detail; `None` if all are left."""
        checks: list[tuple[Limit, float | None, float]] = [
            ("turns", self.turns, spent.turns),
            ("tokens", self.tokens, spent.tokens),
            ("cost_usd", self.cost_usd, spent.cost_usd),
            ("wall_s", self.wall_s, spent.wall_s),
        ]
        for kind, limit, value in checks:
            if limit is not None and value >= limit:
                return kind, f"{kind} {value:g} >= {limit:g}"
        return None

    def check_priced(self, provider: str, model: str) -> None:
        """Refuse a cost budget for a model the price table does not know.

        Raises:
            SpecError: The model has no price; the message says how to run without a cost budget.
        """
        if self.cost_usd is not None and price_usd(provider, model, Usage(1, 1)) is None:
            raise SpecError(
                f"no price is known for {provider} model {model!r}, so a cost budget cannot be enforced; "
                "pass `--max-cost none` (and a token budget) to run it"
            )
