"""`vetted spam train|evaluate`: train the shipped spam model and measure it on labelled CSVs."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from service.policy import SitePolicy
from worker.checks.spam import DEFAULT_MODEL_PATH, SpamModel
from worker.spam_training import LabelledSet, evaluate, load_csv, train

# Defaults come from SitePolicy so `evaluate` measures what a new site gets.
DEFAULT_SPAM_THRESHOLD = SitePolicy().spam_threshold
DEFAULT_REVIEW_THRESHOLD = SitePolicy().review_threshold

spam = click.Group("spam", help="Train and measure the spam model.")

_csv_option = click.option(
    "--csv",
    "csv_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled CSV file (repeatable).",
)
_text_option = click.option(
    "--text-column", default="CONTENT", show_default=True, help="Column with the comment."
)
_label_option = click.option(
    "--label-column",
    default="CLASS",
    show_default=True,
    help="Column with the label (1/0, spam/ham, true/false).",
)
_author_option = click.option(
    "--author-column", default=None, help="Optional column with the author's name."
)


def _load(
    csv_files: tuple[Path, ...], text_column: str, label_column: str, author_column: str | None
) -> LabelledSet:
    try:
        return load_csv(csv_files, text_column, label_column, author_column)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


@spam.command("train")
@_csv_option
@_text_option
@_label_option
@_author_option
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--out",
    default=DEFAULT_MODEL_PATH,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the model (default: the shipped artifact).",
)
def train_command(
    csv_files: tuple[Path, ...],
    text_column: str,
    label_column: str,
    author_column: str | None,
    epochs: int,
    out: Path,
) -> None:
    """Train a fresh spam model on labelled CSV files and save it."""
    data = _load(csv_files, text_column, label_column, author_column)
    try:
        model = train(data, epochs=epochs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo("metrics on the training data (optimistic; use `evaluate` on other files):")
    for line in evaluate(model, data, DEFAULT_SPAM_THRESHOLD, DEFAULT_REVIEW_THRESHOLD).lines():
        click.echo(f"  {line}")
    click.echo(f"saved {model.save(out)}")


@spam.command("evaluate")
@_csv_option
@_text_option
@_label_option
@_author_option
@click.option(
    "--model",
    "model_path",
    default=DEFAULT_MODEL_PATH,
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--spam-threshold",
    default=DEFAULT_SPAM_THRESHOLD,
    show_default=True,
    type=click.FloatRange(0, 1),
)
@click.option(
    "--review-threshold",
    default=DEFAULT_REVIEW_THRESHOLD,
    show_default=True,
    type=click.FloatRange(0, 1),
)
def evaluate_command(
    csv_files: tuple[Path, ...],
    text_column: str,
    label_column: str,
    author_column: str | None,
    model_path: Path,
    spam_threshold: float,
    review_threshold: float,
) -> None:
    """Measure a model on labelled CSV files: precision, recall, F1, FPR, ROC-AUC and outcomes."""
    if review_threshold > spam_threshold:
        raise click.UsageError("--review-threshold must not exceed --spam-threshold")
    data = _load(csv_files, text_column, label_column, author_column)
    try:
        model = SpamModel.load(model_path)
    except (ValueError, OSError, KeyError) as exc:
        raise click.ClickException(f"cannot load {model_path}: {exc}") from exc
    click.echo(f"model {model_path} (spam >= {spam_threshold}, review >= {review_threshold})")
    for line in evaluate(model, data, spam_threshold, review_threshold).lines():
        click.echo(line)


@spam.command("retrain")
@click.option(
    "--csv",
    "csv_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Train afresh on these labelled CSV files first (default: start from the shipped model).",
)
@_text_option
@_label_option
@_author_option
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the model to this file instead (an export; the database is left alone). "
    "Default: save it in the database, where every worker picks it up.",
)
@with_appcontext
def retrain_command(
    csv_files: tuple[Path, ...],
    text_column: str,
    label_column: str,
    author_column: str | None,
    out: Path | None,
) -> None:
    """Rebuild this deployment's learned model: the shipped model (or one trained on --csv)
    plus every spam/ham label moderators have given, saved in the database for every worker."""
    from redis.exceptions import RedisError

    from worker.learning import LearningBusy, retrain

    base = None
    if csv_files:
        try:
            base = train(_load(csv_files, text_column, label_column, author_column))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    try:
        count, saved = retrain(base, out)
    except (LearningBusy, RedisError) as exc:
        raise click.ClickException(f"cannot take the spam learning lock: {exc}") from exc
    if saved is None and out is not None:
        click.echo("no labelled examples yet: nothing to write")
    elif saved is None:
        click.echo("no labelled examples yet: removed the learned model, the shipped one is used")
    else:
        click.echo(f"learned {count} labelled example(s); saved {saved}")
