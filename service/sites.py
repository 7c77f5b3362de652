"""Creating and changing sites and their policy."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from service.db import db
from service.models import AuditEvent, Site
from service.policy import SitePolicy


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/")


def create_site(slug: str, name: str | None = None, origins: list[str] | None = None,
                **policy: Any) -> Site:
    if db.session.scalar(select(Site).where(Site.slug == slug)):
        raise ValueError(f"site {slug!r} already exists")
    site = Site(slug=slug, name=name or slug)
    site.policy = SitePolicy(allowed_origins=[normalise_origin(o) for o in origins or []],
                             **policy)
    db.session.add(site)
    db.session.commit()
    return site


def update_policy(site: Site, changes: dict[str, Any], actor: str) -> SitePolicy:
    """Apply validated changes and audit them; raises ValidationError on bad values."""
    if "allowed_origins" in changes:
        changes["allowed_origins"] = [normalise_origin(o) for o in changes["allowed_origins"]]
    merged = site.policy.model_dump() | changes
    policy = SitePolicy.model_validate(merged)
    before = site.policy.model_dump()
    site.policy = policy
    changed = {k: v for k, v in policy.model_dump().items() if before.get(k) != v}
    db.session.add(AuditEvent(site_id=site.id, actor=actor, action="policy.update",
                              reason=str(changed)[:500]))
    db.session.commit()
    return policy


def ensure_site(slug: str, name: str, origins: list[str]) -> Site:
    """Create the site, or add any missing origins to an existing one."""
    site = db.session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        return create_site(slug, name, origins)
    missing = [o for o in map(normalise_origin, origins) if o not in site.policy.allowed_origins]
    if missing:
        update_policy(site, {"allowed_origins": site.policy.allowed_origins + missing}, "cli")
    return site


__all__ = ["create_site", "update_policy", "ensure_site", "ValidationError"]
