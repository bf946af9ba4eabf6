"""Providers: OpenAI-compatible endpoints operators register, their models under aliases,
and the ordered candidates of an alias that the AI gateway tries in turn."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ...core import audit
from ...core.errors import Conflict
from ...core.security import seal, unseal
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Provider, ProviderModel

PURPOSE = "ai-provider-secret"


def create(session: Session, *, actor: Actor, data: schemas.ProviderCreate,
           secret: bytes) -> Provider:
    """Register a provider; its secret is sealed under a key derived from the hub's secret."""
    authorize(actor, "ai.provider.manage")
    aliases = [m.alias for m in data.models]
    if len(set(aliases)) != len(aliases):
        raise Conflict("A provider serves each alias once: {alias} is given twice",
                       code="alias_twice", field="models",
                       alias=next(a for a in aliases if aliases.count(a) > 1))
    key = data.api_key.get_secret_value() if data.api_key is not None else None
    provider = Provider(name=data.name, base_url=data.base_url.rstrip("/"),
                        secret_sealed=seal(secret, PURPOSE, key.encode()) if key else None,
                        created_by=actor.user_id)
    provider.models = [ProviderModel(alias=m.alias, model=m.model, kind=m.kind,
                                     context=m.context, price_in=m.price_in,
                                     price_out=m.price_out, position=data.position)
                       for m in data.models]
    try:
        with session.begin_nested():
            session.add(provider)
            session.flush()
    except IntegrityError:
        raise Conflict("A provider named {name} is already registered",
                       code="provider_exists", field="name", name=data.name) from None
    audit.record(session, actor=actor, action="ai.provider.create", target_type="ai_provider",
                 target_id=provider.id, details={"name": provider.name,
                                                 "base_url": provider.base_url,
                                                 "models": aliases,
                                                 "secret": key is not None})
    return provider


def list_(session: Session, *, actor: Actor) -> list[Provider]:
    authorize(actor, "ai.provider.manage")
    return list(session.scalars(select(Provider).options(selectinload(Provider.models))
                                .order_by(Provider.id)))


def provider_read(provider: Provider) -> schemas.ProviderRead:
    return schemas.ProviderRead(
        id=provider.id, name=provider.name, base_url=provider.base_url,
        has_secret=provider.secret_sealed is not None, enabled=provider.enabled,
        models=[schemas.ProviderModelRead(alias=m.alias, model=m.model, kind=m.kind,  # type: ignore[arg-type]
                                          context=m.context, price_in=float(m.price_in),
                                          price_out=float(m.price_out), position=m.position)
                for m in provider.models],
        created_at=provider.created_at)


@dataclass(frozen=True)
class Candidate:
    """One provider's model for an alias, as the AI gateway calls it."""

    provider_id: int
    provider: str
    base_url: str
    secret: str | None
    alias: str
    model: str
    kind: str
    context: int
    price_in: float
    price_out: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return round((input_tokens * self.price_in + output_tokens * self.price_out) / 1000, 4)


def routes(session: Session, secret: bytes) -> dict[str, list[Candidate]]:
    """Every alias of the enabled providers with its candidates in order (position, then the
    provider registered first). Secrets are unsealed here, for the gateway's memory only."""
    rows = session.execute(select(ProviderModel, Provider)
                           .join(Provider, Provider.id == ProviderModel.provider_id)
                           .where(Provider.enabled.is_(True))
                           .order_by(ProviderModel.alias, ProviderModel.position, Provider.id))
    found: dict[str, list[Candidate]] = {}
    keys: dict[int, str | None] = {}
    for model, provider in rows:
        if provider.id not in keys:
            keys[provider.id] = (unseal(secret, PURPOSE, provider.secret_sealed).decode()
                                 if provider.secret_sealed else None)
        found.setdefault(model.alias, []).append(Candidate(
            provider.id, provider.name, provider.base_url, keys[provider.id], model.alias,
            model.model, model.kind, model.context, float(model.price_in),
            float(model.price_out)))
    return found
