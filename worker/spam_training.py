"""Train and measure the spam model from labelled CSV files (used by `vetted spam` and bench/)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from worker.checks import Submission
from worker.checks.spam import FeatureConfig, SpamModel, fit, new_classifier

_SPAM_LABELS = {"1", "spam", "true", "yes"}
_HAM_LABELS = {"0", "ham", "false", "no"}


@dataclass(frozen=True)
class LabelledSet:
    """Submissions with their labels, and which file each came from (for leave-one-file-out)."""

    subs: list[Submission]
    labels: list[bool]
    sources: list[str]


def _parse_label(value: str, where: str) -> bool:
    v = value.strip().lower()
    if v in _SPAM_LABELS:
        return True
    if v in _HAM_LABELS:
        return False
    raise ValueError(f"{where}: label {value!r} is not one of 1/0, spam/ham, true/false")


def load_csv(
    paths: Sequence[str | Path],
    text_column: str = "CONTENT",
    label_column: str = "CLASS",
    author_column: str | None = None,
) -> LabelledSet:
    """Read labelled comments; the author column, when given, becomes the submission's name."""
    subs: list[Submission] = []
    labels: list[bool] = []
    sources: list[str] = []
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {
                text_column,
                label_column,
                *([author_column] if author_column else []),
            } - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            for n, row in enumerate(reader, start=2):
                labels.append(_parse_label(row[label_column], f"{path}:{n}"))
                name = (row[author_column] or "") if author_column else ""
                subs.append(Submission(body=row[text_column] or "", name=name))
                sources.append(str(path))
    return LabelledSet(subs, labels, sources)


def train(
    data: LabelledSet,
    config: FeatureConfig | None = None,
    epochs: int = 10,
    alpha: float = 1e-4,
    seed: int = 0,
    show_progress: bool = True,
) -> SpamModel:
    """A fresh model fitted on `data`, with a progress bar over epochs."""
    if len(set(data.labels)) < 2:
        raise ValueError("training needs both spam and ham examples")
    model = SpamModel(
        config or FeatureConfig(),
        new_classifier(alpha=alpha, seed=seed),
        {
            "trained": date.today().isoformat(),
            "examples": len(data.labels),
            "epochs": epochs,
            "alpha": alpha,
        },
    )

    def progress(it: range) -> tqdm:
        return tqdm(it, desc="training epochs", unit="epoch", disable=not show_progress)

    return fit(model, data.subs, data.labels, epochs=epochs, seed=seed, progress=progress)


@dataclass(frozen=True)
class Evaluation:
    """Binary metrics at spam_threshold, plus the 3-way outcome with both thresholds."""

    n: int
    spam: int
    precision: float
    recall: float
    f1: float
    false_positive_rate: float
    roc_auc: float
    # Spam caught when "review" also counts as caught (the moderator sees it before readers do).
    recall_with_review: float
    ham_marked_spam: float
    ham_to_review: float
    outcomes: dict[str, dict[str, int]]

    def lines(self) -> list[str]:
        o = self.outcomes
        return [
            f"comments {self.n} (spam {self.spam}, ham {self.n - self.spam})",
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"FPR {self.false_positive_rate:.3f}  ROC-AUC {self.roc_auc:.3f}",
            f"spam caught (spam or review) {self.recall_with_review:.3f}  "
            f"ham marked spam {self.ham_marked_spam:.3f}  ham to review {self.ham_to_review:.3f}",
            "outcomes      spam  review  pass",
            f"  actual spam {o['spam']['spam']:5d} {o['spam']['review']:7d} {o['spam']['pass']:5d}",
            f"  actual ham  {o['ham']['spam']:5d} {o['ham']['review']:7d} {o['ham']['pass']:5d}",
        ]


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def evaluate_scores(
    scores: Sequence[float], labels: Sequence[bool], spam_threshold: float, review_threshold: float
) -> Evaluation:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    is_spam = s >= spam_threshold
    is_review = (s >= review_threshold) & ~is_spam
    tp, fp = int((is_spam & y).sum()), int((is_spam & ~y).sum())
    n_spam, n_ham = int(y.sum()), int((~y).sum())
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, n_spam)

    def counts(mask: np.ndarray) -> dict[str, int]:
        spam, review = int((is_spam & mask).sum()), int((is_review & mask).sum())
        return {"spam": spam, "review": review, "pass": int(mask.sum()) - spam - review}

    outcomes = {"spam": counts(y), "ham": counts(~y)}
    return Evaluation(
        n=len(y),
        spam=n_spam,
        precision=precision,
        recall=recall,
        f1=_ratio(2 * precision * recall, precision + recall),
        false_positive_rate=_ratio(fp, n_ham),
        roc_auc=float(roc_auc_score(y, s)) if 0 < n_spam < len(y) else float("nan"),
        recall_with_review=_ratio(outcomes["spam"]["spam"] + outcomes["spam"]["review"], n_spam),
        ham_marked_spam=_ratio(outcomes["ham"]["spam"], n_ham),
        ham_to_review=_ratio(outcomes["ham"]["review"], n_ham),
        outcomes=outcomes,
    )


def evaluate(
    model: SpamModel, data: LabelledSet, spam_threshold: float, review_threshold: float
) -> Evaluation:
    return evaluate_scores(
        model.score_many(data.subs), data.labels, spam_threshold, review_threshold
    )


def leave_one_file_out(
    data: LabelledSet, **train_options: object
) -> list[tuple[str, list[float], list[bool]]]:
    """Per source file: scores from a model trained on the other files only (never on this one)."""
    folds = []
    for held_out in dict.fromkeys(data.sources):
        train_idx = [i for i, s in enumerate(data.sources) if s != held_out]
        test_idx = [i for i, s in enumerate(data.sources) if s == held_out]
        subset = LabelledSet(
            [data.subs[i] for i in train_idx],
            [data.labels[i] for i in train_idx],
            [data.sources[i] for i in train_idx],
        )
        model = train(subset, show_progress=False, **train_options)  # type: ignore[arg-type]
        test_labels = [data.labels[i] for i in test_idx]
        folds.append((held_out, model.score_many([data.subs[i] for i in test_idx]), test_labels))
    return folds
