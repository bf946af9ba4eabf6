"""What the hub's own AI features share: asking the configured model through the AI gateway
(its refusals as the hub's errors), abuse limits, and the language of a question."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ...agile.service.limits import Gcra
from ...config import Settings
from ...core.errors import HubError, TooManyRequests, Unavailable
from ...identity.policy import Actor
from ..wire import Refusal

HANGUL = re.compile(r"[\uac00-\ud7a3]")


class Complete(Protocol):
    """`AiGateway.complete`: a chat answer from the model the operator configured."""

    def __call__(self, messages: list[dict[str, Any]], *, purpose: str,
                 user_id: int | None = ..., org_id: int | None = ...,
                 max_tokens: int = ..., temperature: float = ...) -> Awaitable[str]: ...


class ModelFailed(HubError):
    status = 502
    code = "ai_model_failed"
    title = "The AI model could not answer"


def features_off() -> Unavailable:
    return Unavailable("The hub's AI features are off: no chat model is configured "
                       "(DPGHUB_AI_ASSIST_MODEL)", code="ai_features_off")


def check_on(settings: Settings) -> None:
    """Refuse at once, before any work, when no model alias is configured."""
    if not settings.ai_assist_model:
        raise features_off()


async def chat(complete: Complete, messages: list[dict[str, Any]], *, purpose: str,
               actor: Actor, max_tokens: int) -> str:
    """The model's answer; the gateway's refusals become the hub's errors (problem+json)."""
    try:
        return await complete(messages, purpose=purpose, user_id=actor.user_id,
                              max_tokens=max_tokens, temperature=0.0)
    except Refusal as refusal:
        if refusal.code == "ai_features_off":
            raise features_off() from None
        raise ModelFailed("The AI model could not answer: {reason}", code="ai_model_failed",
                          reason=refusal.message[:300]) from None


def language_of(question: str) -> str:
    """`ko` for a question with Hangul in it, `en` otherwise: answers follow the question."""
    return "ko" if HANGUL.search(question) else "en"


# --- abuse limits --------------------------------------------------------------------------


@dataclass
class Limits:
    """Each model call costs the hub: signed-in people get 60 questions an hour (20 at
    once), anonymous callers 20 an hour (5 at once) per network address."""

    people: Gcra
    addresses: Gcra

    def check(self, actor: Actor, address: str) -> None:
        if actor.user_id is not None:
            wait = self.people.wait(f"user:{actor.user_id}")
        elif actor.via in ("app", "sandbox", "ci"):
            wait = self.people.wait(f"{actor.via}:{actor.email}")
        else:
            wait = self.addresses.wait(f"address:{address}")
        if wait > 0:
            seconds = max(1, round(wait))
            raise TooManyRequests("Too many questions from you in a short time; try again in "
                                  "{seconds} s", code="ai_assist_rate_limited",
                                  headers={"Retry-After": str(seconds)}, seconds=seconds)


def limits(clock: Any) -> Limits:
    """The limits of one hub process, on its clock (`app.state.clock`)."""
    def now() -> datetime:
        return clock()  # type: ignore[no-any-return]

    return Limits(people=Gcra(count=60, period=timedelta(hours=1), burst=20, clock=now),
                  addresses=Gcra(count=20, period=timedelta(hours=1), burst=5, clock=now))
