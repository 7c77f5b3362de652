"""Leave-one-video-out evaluation of the spam model, its speed, and the offensive check's holds.

Run: .venv/bin/python bench/spam_eval.py [--data DIR] [--spam-threshold X] [--review-threshold Y]
Thresholds default to SitePolicy's, so the figures describe what a new site gets.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import re
import sys
import time
from pathlib import Path

# One core, as the throughput target says; set before numpy/scipy load their BLAS.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from service.policy import SitePolicy  # noqa: E402
from worker.checks import Submission, offensive  # noqa: E402
from worker.checks.spam import load_default  # noqa: E402
from worker.spam_training import evaluate_scores, leave_one_file_out, load_csv  # noqa: E402

DATA = Path("/work/shared/data")
# "Ordinary clean" = YouTube ham without swearing or insults; the words are listed so the
# figure can be checked (without this filter the figure counts real swearing as false holds).
SWEARING = re.compile(
    r"(?i)f+u+c*k|fu cking|shit|bitch|whore|bastard|dick|crap|damn|stupid|dumb|suck|\bhell\b"
    r"|wtf|stfu|\bass\b|\bgay\b|tits|racist|asinine|idiot|\bjap\b|worthless|fool"
)


def spam_table(data_dir: Path, spam_t: float, review_t: float) -> None:
    files = sorted((data_dir / "youtube-spam").glob("*.csv"))
    data = load_csv(files, "CONTENT", "CLASS", "AUTHOR")
    folds = leave_one_file_out(data)
    print(f"spam model, leave-one-video-out (spam >= {spam_t}, review >= {review_t})")
    header = "held-out video", "spam caught", "ham->spam", "ham->review", "F1", "ROC-AUC"
    print(f"  {header[0]:<26}" + "".join(f"{h:>12}" for h in header[1:]))
    rows = []
    for path, scores, labels in folds:
        ev = evaluate_scores(scores, labels, spam_t, review_t)
        row = (ev.recall_with_review, ev.ham_marked_spam, ev.ham_to_review, ev.f1, ev.roc_auc)
        rows.append(row)
        print(f"  {Path(path).stem:<26}" + "".join(f"{v:>12.3f}" for v in row))
    print(f"  {'mean':<26}" + "".join(f"{v:>12.3f}" for v in np.mean(rows, axis=0)))
    mean = np.mean(rows, axis=0)
    targets = mean[0] >= 0.95 and mean[1] <= 0.02 and mean[2] <= 0.15
    verdict = "met" if targets else "NOT met"
    print(f"  targets (caught >= 0.95, ham->spam <= 0.02, ham->review <= 0.15): {verdict}")

    print("  review-threshold sweep (mean over held-out videos): caught / ham->review")
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        evs = [evaluate_scores(s, y, max(spam_t, t), t) for _, s, y in folds]
        caught = np.mean([e.recall_with_review for e in evs])
        print(f"    {t:.2f}: {caught:.3f} / {np.mean([e.ham_to_review for e in evs]):.3f}")


def throughput(data_dir: Path) -> None:
    files = sorted((data_dir / "youtube-spam").glob("*.csv"))
    subs = load_csv(files, "CONTENT", "CLASS", "AUTHOR").subs
    model = load_default()
    texts = [s.body for s in subs]
    model.score_many(subs[:10])
    offensive.score_many(texts[:10])
    batch = subs * 4
    for name, run in (
        ("spam model", lambda b: model.score_many(b)),
        ("offensive model", lambda b: offensive.score_many([s.body for s in b])),
    ):
        start = time.perf_counter()
        run(batch)
        per_s = len(batch) / (time.perf_counter() - start)
        start = time.perf_counter()
        for sub in subs[:300]:
            run([sub])
        single_ms = (time.perf_counter() - start) / 300 * 1000
        print(f"  {name:<16} batched {per_s:>9,.0f} comments/s   single {single_ms:.2f} ms/comment")


def offensive_holds(data_dir: Path, threshold: float) -> None:
    ham: list[str] = []
    for path in sorted((data_dir / "youtube-spam").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            ham += [html.unescape(r["CONTENT"]) for r in csv.DictReader(fh) if r["CLASS"] == "0"]
    with open(
        data_dir / "offensive" / "davidson-labeled_data.csv", newline="", encoding="utf-8"
    ) as fh:
        tweets = [(html.unescape(r["tweet"]), r["class"]) for r in csv.DictReader(fh)]
    clean = [t for t in ham if not SWEARING.search(t)]
    sets = {
        "YouTube ham without swearing": clean,
        "YouTube ham, all (some swear)": ham,
        "Davidson 'neither' (optimistic)": [t for t, c in tweets if c == "2"],
        "Davidson offensive+hate (caught)": [t for t, c in tweets if c != "2"],
    }
    print(f"offensive check hold rate (offensive_threshold {threshold})")
    for name, texts in sets.items():
        scores = np.array(offensive.score_many(texts))
        sweep = "  ".join(f"{t}:{(scores >= t).mean():.3f}" for t in (0.5, 0.7, 0.8, 0.9))
        print(f"  {name:<34} n={len(texts):>6}  {(scores >= threshold).mean():.3f}   [{sweep}]")


def main() -> None:
    policy = SitePolicy()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--spam-threshold", type=float, default=policy.spam_threshold)
    parser.add_argument("--review-threshold", type=float, default=policy.review_threshold)
    parser.add_argument("--offensive-threshold", type=float, default=policy.offensive_threshold)
    args = parser.parse_args()
    spam_table(args.data, args.spam_threshold, args.review_threshold)
    print("throughput (one core)")
    throughput(args.data)
    offensive_holds(args.data, args.offensive_threshold)
    # A sanity line for the shipped artifact, on one obvious spam and one ordinary comment.
    model = load_default()
    probe = [
        Submission("CHECK OUT MY CHANNEL!!! subscribe http://bit.ly/xyz"),
        Submission("Thanks for the article, the part about the treaty was interesting."),
    ]
    print("shipped model on two probes: " + ", ".join(f"{s:.3f}" for s in model.score_many(probe)))


if __name__ == "__main__":
    main()
