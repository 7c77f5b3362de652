"""`vetted privacy export|erase`: a reader's right to see and to erase what is stored."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext


@click.group("privacy")
def privacy() -> None:
    """Export or erase everything stored about one reader (both are audited)."""


@privacy.command("export")
@click.option("--email", required=True, help="The reader's email address.")
@with_appcontext
def export(email: str) -> None:
    """Print the reader's comments, check results and audit events as JSON."""
    from service.privacy import export_reader

    data = export_reader(email)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    if not data["comments"]:
        click.echo("no comments stored for this email", err=True)


@privacy.command("erase")
@click.option("--email", required=True, help="The reader's email address.")
@click.option("--delete-comments", is_flag=True,
              help="Also delete the text (published comments are taken down).")
@with_appcontext
def erase(email: str, delete_comments: bool) -> None:
    """Remove name, email, website, IP and user agent from the reader's comments."""
    from service.privacy import erase_reader

    counts = erase_reader(email, delete_comments)
    click.echo(json.dumps(counts))
