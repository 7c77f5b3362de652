"""Leave-one-video-out through the WHOLE pipeline (what `vetted check` runs), plus throughput.

For each YouTube video, a spam model is trained on the other three, then every comment of the
held-out video goes through all checks (links, lists, near-duplicates, spam, offensive...) with
the default site policy, exactly as `vetted check` does. Prints, per video and on average:
spam caught (verdict spam or review), ham marked spam or rejected, ham sent to review; then
`vetted check` throughput on one core and the worker's CPU per decision.

Run: .venv/bin/python bench/pipeline_eval.py [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.policy import SitePolicy  # noqa: E402
from worker.dry_run import check_lines  # noqa: E402
from worker.spam_training import LabelledSet, load_csv, train  # noqa: E402

DATA = Path(os.environ.get("VETTED_DATA", Path(__file__).resolve().parents[2] / "shared/data"))


def as_line(sub) -> str:
    return json.dumps({"body": sub.body, "name": sub.name})


def evaluate_fold(data: LabelledSet, held_out: str, policy: SitePolicy) -> dict[str, float]:
    train_idx = [i for i, s in enumerate(data.sources) if s != held_out]
    test_idx = [i for i, s in enumerate(data.sources) if s == held_out]
    model = train(LabelledSet([data.subs[i] for i in train_idx],
                              [data.labels[i] for i in train_idx],
                              [data.sources[i] for i in train_idx]), show_progress=False)
    lines = [as_line(data.subs[i]) for i in test_idx]
    verdicts = [r["verdict"] for r in check_lines(lines, policy, model=model)]
    labels = [data.labels[i] for i in test_idx]
    spam = [v for v, y in zip(verdicts, labels, strict=True) if y]
    ham = [v for v, y in zip(verdicts, labels, strict=True) if not y]
    return {
        "caught": sum(v in ("spam", "review") for v in spam) / len(spam),
        "ham_spam_or_rejected": sum(v in ("spam", "reject") for v in ham) / len(ham),
        "ham_review": sum(v == "review" for v in ham) / len(ham),
    }


def throughput(data: LabelledSet, policy: SitePolicy, repeat: int = 6) -> float:
    """Comments/s of the dry-run pipeline, models batched, after a warm-up."""
    lines = [as_line(s) for s in data.subs] * repeat
    list(check_lines(lines[:600], policy))
    start = time.process_time()
    count = sum(1 for _ in check_lines(lines, policy))
    return count / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    files = sorted((args.data / "youtube-spam").glob("*.csv"))
    data = load_csv(files, "CONTENT", "CLASS", "AUTHOR")
    policy = SitePolicy()
    print(f"whole pipeline, leave-one-video-out (default policy: spam >= "
          f"{policy.spam_threshold}, review >= {policy.review_threshold})")
    print(f"  {'held-out video':<24}{'spam caught':>13}{'ham->spam/rej':>15}{'ham->review':>13}")
    rows = []
    for source in dict.fromkeys(data.sources):
        row = evaluate_fold(data, source, policy)
        rows.append(row)
        print(f"  {Path(source).stem:<24}{row['caught']:>13.3f}"
              f"{row['ham_spam_or_rejected']:>15.3f}{row['ham_review']:>13.3f}")
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
    print(f"  {'mean':<24}{mean['caught']:>13.3f}{mean['ham_spam_or_rejected']:>15.3f}"
          f"{mean['ham_review']:>13.3f}")
    met = mean["caught"] >= 0.95 and mean["ham_spam_or_rejected"] <= 0.02 \
        and mean["ham_review"] <= 0.15
    print(f"  targets (caught >= 0.95, ham->spam/rejected <= 0.02, ham->review <= 0.15): "
          f"{'met' if met else 'NOT met'}")
    rate = throughput(data, policy)
    print(f"vetted check pipeline: {rate:,.0f} comments/s of CPU on one core "
          f"({1000 / rate:.2f} ms CPU per comment, batched)")


if __name__ == "__main__":
    main()
