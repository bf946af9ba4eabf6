"""The public changelog of a service: the succeeded releases of the project building it, each
with the items it delivered and the feedback it answered, and the same as an Atom feed (RFC
4287) that feed readers and other portals can follow."""

from __future__ import annotations

import re
from datetime import datetime
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...catalog import service as catalog
from ...identity.policy import ANONYMOUS, authorize
from .. import schemas
from ..models import Feedback, Item, Release, ReleaseStatus
from . import feedback as feedback_rules
from . import projects

ATOM = "http://www.w3.org/2005/Atom"
# what XML 1.0 cannot carry at all (outside its Char production): ElementTree escapes markup
# but writes these as they are, and the feed is then no XML any reader takes
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def entries(session: Session, *, org: str, slug: str) -> list[schemas.ChangelogEntry]:
    service = catalog.get_service(session, org, slug)
    authorize(ANONYMOUS, "agile.public.read", service)
    project = projects.of_service(session, service.id)
    if project is None:
        return []
    releases = session.scalars(select(Release).where(
        Release.project_id == project.id, Release.status == ReleaseStatus.succeeded)
        .order_by(Release.released_at.desc(), Release.id.desc()))
    found = []
    for release in releases:
        titles = [i.title for i in session.scalars(select(Item).where(
            Item.id.in_(release.item_ids)).order_by(Item.id))] if release.item_ids else []
        answered = [feedback_rules.feedback_read(session, f) for f in session.scalars(
            select(Feedback).where(Feedback.release_id == release.id).order_by(Feedback.id))]
        found.append(schemas.ChangelogEntry(
            version=release.version, released_at=release.released_at, notes=release.notes,
            status=release.status, items=titles, feedback=answered))
    return found


def atom(session: Session, *, org: str, slug: str, base_url: str, now: datetime) -> bytes:
    service = catalog.get_service(session, org, slug)
    listed = entries(session, org=org, slug=slug)
    page = f"{base_url.rstrip('/')}/services/{org}/{slug}/changelog"
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def add(parent: ET.Element, name: str, text: str | None = None,
            **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
        if text is not None:
            element.text = NOT_XML.sub("", text)
        return element

    add(feed, "id", page)
    add(feed, "title", f"{service.title_ko} — 변경 이력 / changelog")
    add(feed, "updated", (listed[0].released_at if listed else service.created_at or now)
        .isoformat())
    add(feed, "link", href=page, rel="alternate")
    add(feed, "link", href=page + ".atom", rel="self")
    author = add(feed, "author")
    add(author, "name", service.organization.name_ko)
    for entry in listed:
        element = add(feed, "entry")
        add(element, "id", f"{page}#release-{entry.version}")
        add(element, "title", entry.version)
        add(element, "updated", entry.released_at.isoformat())
        add(element, "link", href=f"{page}#release-{entry.version}", rel="alternate")
        lines = [entry.notes] if entry.notes else []
        lines += [f"• {title}" for title in entry.items]
        lines += [f"✓ #{f.id} {f.text}" for f in entry.feedback]
        add(element, "content", "\n".join(lines), type="text")
    text = ET.tostring(feed, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode()
