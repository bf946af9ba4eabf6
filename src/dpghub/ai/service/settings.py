"""An organization's AI settings: masking of personal data in its prompts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...core import audit
from ...identity.models import Organization
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import OrgSetting


def masks_prompts(session: Session, org_id: int) -> bool:
    found = session.get(OrgSetting, org_id)
    return bool(found and found.mask_prompts)


def read(session: Session, *, actor: Actor, org: Organization) -> schemas.SettingsRead:
    authorize(actor, "ai.budget.read", org)
    return schemas.SettingsRead(org=org.slug, mask_prompts=masks_prompts(session, org.id))


def update(session: Session, *, actor: Actor, org: Organization, data: schemas.SettingsUpdate,
           now: datetime) -> schemas.SettingsRead:
    authorize(actor, "ai.settings.manage", org)
    found = session.get(OrgSetting, org.id)
    if found is None:
        found = OrgSetting(org_id=org.id)
        session.add(found)
    found.mask_prompts, found.updated_by, found.updated_at = (data.mask_prompts, actor.user_id,
                                                              now)
    session.flush()
    audit.record(session, actor=actor, action="ai.settings.update", target_type="organization",
                 target_id=org.id, org_id=org.id, details={"mask_prompts": data.mask_prompts})
    return schemas.SettingsRead(org=org.slug, mask_prompts=data.mask_prompts)
