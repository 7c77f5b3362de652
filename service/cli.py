"""The `vetted` command: Flask's CLI (run, db, routes) plus up, tokens, sites and check."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, get_origin

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from pydantic import ValidationError
from sqlalchemy import select

from service import create_app
from service.db import db
from service.models import ApiToken, Site
from service.policy import SitePolicy


@click.group(cls=FlaskGroup, create_app=create_app)
def cli() -> None:
    """Vetted: self-hosted comment moderation."""


@cli.command("up")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 8000)),
              show_default="$PORT or 8000")
@click.option("--web-workers", type=int, default=2, show_default=True)
@with_appcontext
def up(port: int, web_workers: int) -> None:
    """Start web, worker and beat with SQLite and an embedded Redis; Ctrl-C stops everything."""
    from flask_migrate import upgrade

    from service import embedded
    from service.sites import ensure_site

    instance = Path(current_app.instance_path)
    extra = []
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        process, redis_url = embedded.start_redis(instance / "redis")
        extra.append(process)
        click.echo(f"vetted: embedded Redis at {redis_url}")
    upgrade(revision="heads")
    origins = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    ensure_site("demo", "Demo site", origins)
    env = embedded.child_env(redis_url, embedded.instance_secret(instance),
                             instance / "prometheus")
    click.echo(f"vetted: serving on http://127.0.0.1:{port}  (demo page: "
               f"http://127.0.0.1:{port}/demo/, review page: http://127.0.0.1:{port}/moderate)")
    click.echo("vetted: press Ctrl-C to stop web, worker, beat" + (" and Redis" if extra else ""))
    sys.exit(embedded.supervise(embedded.child_commands(port, instance, web_workers), env, extra))


# ----- tokens -----

@cli.group("tokens")
def tokens() -> None:
    """Create, list and revoke API tokens."""


@tokens.command("create")
@click.option("--role", type=click.Choice(["moderator", "service", "admin"]), required=True)
@click.option("--site", "sites", multiple=True, required=True, help="Repeat for several sites.")
@click.option("--name", default="", help="A label to recognise the token by.")
@with_appcontext
def tokens_create(role: str, sites: tuple[str, ...], name: str) -> None:
    """Print a new token once, alone on the last line; only its hash is stored."""
    from service.tokens import create_token

    known = set(db.session.scalars(select(Site.slug).where(Site.slug.in_(sites))))
    if missing := sorted(set(sites) - known):
        raise click.BadParameter(f"unknown site(s): {', '.join(missing)}", param_hint="--site")
    row, token = create_token(role, list(sites), name)
    click.echo(f"created {role} token {row.id} ({row.prefix}…) for {', '.join(row.sites)}; "
               "it is shown only now:", err=True)
    click.echo(token)


@tokens.command("list")
@with_appcontext
def tokens_list() -> None:
    for row in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.prefix}…\t{row.role}\t{','.join(row.sites)}\t{state}\t"
                   f"{row.name}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    from service.tokens import revoke_token

    if not revoke_token(token_id):
        raise click.ClickException(f"no active token {token_id}")
    click.echo(f"revoked token {token_id}")


# ----- sites -----

@cli.group("sites")
def sites() -> None:
    """Create, list and change sites and their moderation policy."""


def policy_options(command: Any) -> Any:
    """One option per SitePolicy field, so the CLI never falls behind the policy."""
    for name, field in reversed(SitePolicy.model_fields.items()):
        flag = name.replace("_", "-")
        if field.annotation is bool:
            option = click.option(f"--{flag}/--no-{flag}", name, default=None,
                                  help=field.description)
        elif get_origin(field.annotation) is list:
            singular = {"allowed_origins": "origin", "moderation_keys": "moderation-key",
                        "offensive_words": "offensive-word"}.get(name, flag)
            option = click.option(f"--{singular}", name, multiple=True, default=None,
                                  help="Repeat for several; replaces the list.")
        else:
            option = click.option(f"--{flag}", name, type=field.annotation, default=None)
        command = option(command)
    return command


def _changes(options: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()
            if v is not None and v != ()}


@sites.command("create")
@click.argument("slug")
@click.option("--name", default=None)
@policy_options
@with_appcontext
def sites_create(slug: str, name: str | None, **options: Any) -> None:
    from service.sites import create_site

    changes = _changes(options)
    origins = changes.pop("allowed_origins", [])
    try:
        site = create_site(slug, name, origins, **changes)
    except (ValueError, ValidationError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created site {site.slug}: {json.dumps(site.policy_json)}")


@sites.command("list")
@with_appcontext
def sites_list() -> None:
    for site in db.session.scalars(select(Site).order_by(Site.slug)):
        click.echo(f"{site.slug}\t{site.name}\t{json.dumps(site.policy_json)}")


@sites.command("update")
@click.argument("slug")
@click.option("--name", default=None)
@policy_options
@with_appcontext
def sites_update(slug: str, name: str | None, **options: Any) -> None:
    from service.sites import update_policy

    site = db.session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise click.ClickException(f"no site {slug!r}")
    if name:
        site.name = name
    try:
        policy = update_policy(site, _changes(options), actor="cli")
    except ValidationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"updated site {slug}: {policy.model_dump_json()}")


# ----- check -----

@cli.command("check")
@click.option("--jsonl", "source", type=click.File("r", encoding="utf-8"), required=True,
              help="One JSON object per line: body, name?, email?, url?, article?; - for stdin.")
@click.option("--site", default=None, help="Use this site's policy (default: the defaults).")
@with_appcontext
def check(source: Any, site: str | None) -> None:
    """Run every check on each line without storing anything; print one JSON line per input."""
    from worker.dry_run import check_lines

    policy = SitePolicy()
    if site:
        found = db.session.scalar(select(Site).where(Site.slug == site))
        if found is None:
            raise click.ClickException(f"no site {site!r}")
        policy = found.policy
    failures = 0
    for result in check_lines(source, policy):
        failures += result.get("error") is not None
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    if failures:
        click.echo(f"vetted: {failures} line(s) could not be checked", err=True)
        sys.exit(1)


def _register_groups() -> None:
    from service.cli_privacy import privacy
    from service.cli_spam import spam

    cli.add_command(spam)
    cli.add_command(privacy)


_register_groups()
