"""Training and measuring the spam model: CSV loading, metrics, leave-one-file-out and the CLI."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli_spam import spam
from worker.checks.spam import DEFAULT_MODEL_PATH, SpamModel
from worker.spam_training import evaluate_scores, leave_one_file_out, load_csv, train

SPAM = [
    "Check out my channel and subscribe http://bit.ly/a{}",
    "SUBSCRIBE to my channel for free gift cards www.gifts{}.com",
    "Visit my page http://win-money{}.net to earn cash now!!!",
    "check out my new video guys, please like and subscribe {}",
]
HAM = [
    "I love this song, it reminds me of summer {}",
    "The chorus is great but the video is weird {}",
    "Who is still listening in 2015? {}",
    "Her voice is amazing in this one {}",
]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def tiny_rows(n: int = 5, text: str = "CONTENT", label: str = "CLASS") -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        rows += [{"AUTHOR": f"spammer{i}", text: t.format(i), label: "1"} for t in SPAM]
        rows += [{"AUTHOR": f"fan {i}", text: t.format(i), label: "0"} for t in HAM]
    return rows


@pytest.fixture()
def tiny_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "tiny.csv", tiny_rows())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- loading ------------------------------------------------------------------------------------


def test_load_csv_reads_text_labels_and_author(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "x.csv",
        [
            {"who": "Ann", "msg": "hello", "y": "spam"},
            {"who": "", "msg": "Ünïcödé ✓", "y": "HAM"},
            {"who": "Bo", "msg": "", "y": " 1 "},
            {"who": "Cy", "msg": "x", "y": "false"},
        ],
    )
    data = load_csv([path], text_column="msg", label_column="y", author_column="who")
    assert [s.body for s in data.subs] == ["hello", "Ünïcödé ✓", "", "x"]
    assert [s.name for s in data.subs] == ["Ann", "", "Bo", "Cy"]
    assert data.labels == [True, False, True, False]
    assert data.sources == [str(path)] * 4
    assert all(s.name == "" for s in load_csv([path], "msg", "y").subs)


def test_load_csv_rejects_missing_columns_and_bad_labels(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [{"CONTENT": "hi", "CLASS": "maybe"}])
    with pytest.raises(ValueError, match="missing column"):
        load_csv([path], text_column="TEXT")
    with pytest.raises(ValueError, match="'maybe'"):
        load_csv([path])


# --- metrics ------------------------------------------------------------------------------------


def test_evaluate_scores_counts_three_outcomes() -> None:
    scores = [0.95, 0.6, 0.1, 0.92, 0.3, 0.05, 0.01, 0.7]
    labels = [True, True, True, False, False, False, False, True]
    ev = evaluate_scores(scores, labels, spam_threshold=0.9, review_threshold=0.5)
    assert ev.outcomes == {
        "spam": {"spam": 1, "review": 2, "pass": 1},
        "ham": {"spam": 1, "review": 0, "pass": 3},
    }
    assert ev.precision == pytest.approx(0.5)
    assert ev.recall == pytest.approx(0.25)
    assert ev.f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert ev.false_positive_rate == pytest.approx(0.25)
    assert ev.recall_with_review == pytest.approx(0.75)
    assert ev.ham_marked_spam == pytest.approx(0.25) and ev.ham_to_review == 0.0
    assert ev.roc_auc == pytest.approx(12 / 16)  # spam above ham in 12 of 16 pairs


def test_evaluate_scores_with_one_class_has_no_auc() -> None:
    ev = evaluate_scores([0.1, 0.2], [False, False], 0.9, 0.5)
    assert ev.precision == 0.0 and ev.recall == 0.0 and ev.roc_auc != ev.roc_auc  # NaN


# --- training -----------------------------------------------------------------------------------


def test_train_learns_the_tiny_set(tiny_csv: Path) -> None:
    data = load_csv([tiny_csv], author_column="AUTHOR")
    model = train(data, show_progress=False)
    ev = evaluate_scores(model.score_many(data.subs), data.labels, 0.9, 0.5)
    assert ev.roc_auc == 1.0
    assert model.rehearsal and model.info["examples"] == len(data.labels)


def test_train_needs_both_classes(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "x.csv", [{"CONTENT": "a", "CLASS": "1"}, {"CONTENT": "b", "CLASS": "1"}]
    )
    with pytest.raises(ValueError, match="both"):
        train(load_csv([path]), show_progress=False)


def test_leave_one_file_out_scores_each_file_once(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", tiny_rows(3))
    second = write_csv(tmp_path / "b.csv", tiny_rows(2))
    data = load_csv([first, second])
    folds = leave_one_file_out(data)
    assert [(src, len(scores)) for src, scores, _ in folds] == [(str(first), 24), (str(second), 16)]
    assert folds[1][2] == data.labels[24:]


def test_leave_one_file_out_never_sees_the_held_out_file(tmp_path: Path) -> None:
    # The held-out file labels a word the other file calls ham as spam: a model that saw the
    # held-out file would score its own examples high; one that did not scores them low.
    ham_word = [{"CONTENT": f"zorblax is lovely {i}", "CLASS": "0"} for i in range(20)]
    spam_word = [{"CONTENT": f"zorblax is lovely {i}", "CLASS": "1"} for i in range(20)]
    others = [{"CONTENT": f"buy cheap pills now {i}", "CLASS": "1"} for i in range(20)]
    first = write_csv(tmp_path / "a.csv", ham_word + others)
    second = write_csv(tmp_path / "b.csv", spam_word + [{"CONTENT": "nice one", "CLASS": "0"}])
    folds = dict((src, scores) for src, scores, _ in leave_one_file_out(load_csv([first, second])))
    assert max(folds[str(second)][:20]) < 0.5


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_train_and_evaluate(tiny_csv: Path, tmp_path: Path) -> None:
    shipped = digest(DEFAULT_MODEL_PATH)
    out = tmp_path / "models" / "tiny.joblib"
    runner = CliRunner()
    trained = runner.invoke(
        spam, ["train", "--csv", str(tiny_csv), "--author-column", "AUTHOR", "--out", str(out)]
    )
    assert trained.exit_code == 0, trained.output
    assert f"saved {out}" in trained.output and "ROC-AUC 1.000" in trained.output
    assert SpamModel.load(out).score_many([]) == []
    assert digest(DEFAULT_MODEL_PATH) == shipped

    evaluated = runner.invoke(
        spam,
        [
            "evaluate",
            "--csv",
            str(tiny_csv),
            "--model",
            str(out),
            "--spam-threshold",
            "0.8",
            "--review-threshold",
            "0.3",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    for word in ("precision", "recall", "F1", "FPR", "ROC-AUC", "actual spam", "actual ham"):
        assert word in evaluated.output
    assert "spam >= 0.8, review >= 0.3" in evaluated.output


def test_cli_custom_columns_and_shipped_model(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", tiny_rows(2, text="body", label="is_spam"))
    result = CliRunner().invoke(
        spam, ["evaluate", "--csv", str(path), "--text-column", "body", "--label-column", "is_spam"]
    )
    assert result.exit_code == 0, result.output
    assert f"model {DEFAULT_MODEL_PATH}" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "--text-column", "nope"],
        ["evaluate", "--spam-threshold", "0.3", "--review-threshold", "0.6"],
        ["train", "--label-column", "nope", "--out", "{tmp}/x.joblib"],
    ],
)
def test_cli_usage_errors(tiny_csv: Path, tmp_path: Path, args: list[str]) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(spam, [args[0], "--csv", str(tiny_csv), *args[1:]])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "x.joblib").exists()
