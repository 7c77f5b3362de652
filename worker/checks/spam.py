"""Spam model check: hashed n-grams plus comment metadata, a logistic model that keeps learning.

Pure module (no Flask, no DB). The pipeline scores a batch with `SpamModel.score_many`, then
turns each score into a verdict with `check_spam`; moderator decisions feed `learn`.
"""

from __future__ import annotations

import copy
import html
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

from worker.checks import CheckResult, Submission, Verdict

if TYPE_CHECKING:
    from service.policy import SitePolicy

CHECK = "spam"
MODEL_VERSION = "spam-v1"
DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "spam-v1.joblib"

# --- metadata signals -------------------------------------------------------------------------

_URL_RE = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"']+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|ru|co|io|me|ly|gl|tk|xyz|us|uk|de|in|tv)\b(?:/[^\s<>\"']*)?"
)
_HOST_RE = re.compile(r"(?i)^(?:https?://)?(?:www\.)?([^/:?#\s]+)")
# Links written so a filter misses them: "example dot com", "site[.]net".
_OBFUSCATED_LINK_RE = re.compile(
    r"(?i)\b\w+\s*(?:\(dot\)|\[dot\]|\[\.\]|\(\.\)|\sdot\s)\s*(?:com|net|org|info|biz|ru|co|io|xyz)\b"
)
_SHORTENERS = frozenset(
    "bit.ly goo.gl tinyurl.com t.co ow.ly is.gd buff.ly adf.ly bitly.com cutt.ly rb.gy "
    "shorturl.at tiny.cc lnkd.in rebrand.ly t.ly s.id".split()
)
_CALL_TO_ACTION_RE = re.compile(
    r"(?i)\b(?:subscrib\w*|sub\s+(?:to\s+)?(?:me|my)|check\s+(?:out\s+)?(?:my|this|our)\b|"
    r"visit\s+(?:my|our|this)|my\s+(?:channel|chanel|video|vid|page|site|website|blog|profile)|"
    r"click\s+(?:here|the\s+link|this)|follow\s+me|thumbs?\s+up|like\s+(?:and|&)\s+share|"
    r"share\s+this|sign\s+up|dm\s+me|message\s+me|whats\s*app|telegram|free\s+\w+\s+here)"
)
_PHONE_RE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{7,}\d(?!\w)")
_REPEAT_RE = re.compile(r"(.)\1{2,}")
_DISPOSABLE_EMAIL = frozenset(
    "mailinator.com guerrillamail.com 10minutemail.com tempmail.com temp-mail.org yopmail.com "
    "trashmail.com sharklasers.com getnada.com dispostable.com maildrop.cc throwawaymail.com "
    "fakeinbox.com mailnesia.com tempmailo.com emailondeck.com mohmal.com".split()
)

# Names shown to moderators, in the order of the metadata columns.
SIGNALS: tuple[str, ...] = (
    "links",
    "several domains",
    "link shortener",
    "obfuscated link",
    "link in name",
    "website given",
    "shouting",
    "repeated characters",
    "phone number",
    "call to action",
    "disposable email",
    "digits in email",
    "length",
)


def _phone_like(text: str) -> bool:
    return any(sum(c.isdigit() for c in m.group()) >= 9 for m in _PHONE_RE.finditer(text))


def _hosts(links: list[str]) -> set[str]:
    hosts = set()
    for link in links:
        m = _HOST_RE.match(link)
        if m:
            hosts.add(m.group(1).lower().rstrip("."))
    return hosts


def metadata_features(sub: Submission) -> list[float]:
    """Each signal scaled to [0, 1] so hashed n-grams and metadata share one weight scale."""
    body = sub.body
    links = _URL_RE.findall(body)
    hosts = _hosts(links + ([sub.url] if sub.url else []))
    letters = sum(map(str.isalpha, body))
    upper = sum(map(str.isupper, body))
    # Only long-enough text can shout; "LOL" is not shouting.
    caps = max(0.0, upper / letters - 0.3) / 0.7 if letters >= 12 else 0.0
    longest_run = max((len(m.group()) for m in _REPEAT_RE.finditer(body)), default=0)
    email_local, _, email_domain = sub.email.lower().rpartition("@")
    return [
        min(math.log1p(len(links)) / math.log(6), 1.0),
        min(max(len(hosts) - 1, 0), 4) / 4,
        float(any(h in _SHORTENERS for h in hosts)),
        float(bool(_OBFUSCATED_LINK_RE.search(body))),
        float(bool(_URL_RE.search(sub.name) or _OBFUSCATED_LINK_RE.search(sub.name))),
        float(bool(sub.url.strip())),
        caps,
        min(max(longest_run - 2, 0), 8) / 8,
        float(_phone_like(body)),
        min(len(_CALL_TO_ACTION_RE.findall(body)), 3) / 3,
        float(email_domain in _DISPOSABLE_EMAIL),
        float(sum(c.isdigit() for c in email_local) >= 4),
        min(math.log1p(len(body)) / math.log(2000), 1.0),
    ]


def normalise_text(text: str) -> str:
    """Unescape HTML, and replace each link by a marker plus its host so links generalise."""
    text = html.unescape(text).replace("\ufeff", " ")
    return _URL_RE.sub(lambda m: " urlmarker " + " ".join(_hosts([m.group()])) + " ", text)


# --- the model ---------------------------------------------------------------------------------


@dataclass
class FeatureConfig:
    """Everything the (stateless) feature pipeline needs; saved with the weights."""

    n_features: int = 2**18
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (4, 4)
    # Relative weight of each block; the blocks are L2-normalised separately.
    word_weight: float = 1.0
    char_weight: float = 0.5
    meta_weight: float = 1.0
    # Hash the author's name as its own small block (spam names often read like channel names).
    use_name: bool = True


class SpamFeatures:
    """Submission -> sparse row: hashed word and char n-grams of the body, then metadata."""

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        self._words = HashingVectorizer(
            n_features=config.n_features,
            ngram_range=config.word_ngrams,
            token_pattern=r"(?u)\b\w+\b",  # noqa: S106 (a regex, not a password)
            alternate_sign=False,
            dtype=np.float32,
        )
        self._chars = HashingVectorizer(
            n_features=config.n_features,
            analyzer="char_wb",
            ngram_range=config.char_ngrams,
            alternate_sign=False,
            dtype=np.float32,
        )

    @staticmethod
    def has_links(sub: Submission) -> bool:
        return bool(_URL_RE.search(sub.body))

    @property
    def n_columns(self) -> int:
        return 2 * self.config.n_features + len(SIGNALS)

    def transform(self, subs: list[Submission]) -> sp.csr_matrix:
        c = self.config
        texts = [normalise_text(s.body) for s in subs]
        if c.use_name:
            texts = [f"{t} nameis {s.name}" for t, s in zip(texts, subs, strict=True)]
        words = self._words.transform(texts) * c.word_weight
        chars = self._chars.transform(texts) * c.char_weight
        meta = sp.csr_matrix(
            np.array([metadata_features(s) for s in subs], np.float32) * c.meta_weight
        )
        return sp.hstack([words, chars, meta], format="csr")


def new_classifier(alpha: float = 1e-4, seed: int = 0) -> SGDClassifier:
    """Logistic regression by SGD: gives probabilities and can keep learning with partial_fit."""
    return SGDClassifier(loss="log_loss", alpha=alpha, random_state=seed)


@dataclass
class SpamModel:
    """The shipped artifact: feature settings, the classifier, a rehearsal sample and provenance."""

    config: FeatureConfig
    classifier: SGDClassifier
    info: dict[str, Any] = field(default_factory=dict)
    # A few labelled training comments replayed by `learn` so new lessons do not erase old ones.
    rehearsal: list[tuple[Submission, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.features = SpamFeatures(self.config)

    def score_many(self, subs: list[Submission]) -> list[float]:
        """Spam probability per submission, batched (one sparse matrix, one dot product)."""
        if not subs:
            return []
        return self.classifier.predict_proba(self.features.transform(subs))[:, 1].tolist()

    def score(self, sub: Submission) -> float:
        return self.score_many([sub])[0]

    def signals(self, sub: Submission, top: int = 2) -> list[str]:
        """Metadata signals that pushed this submission most towards spam, strongest first."""
        values = metadata_features(sub)
        coef = self.classifier.coef_[0, -len(SIGNALS) :] * self.config.meta_weight
        pushes = sorted(
            (
                (w * v, name)
                for w, v, name in zip(coef, values, SIGNALS, strict=True)
                if w * v > 0.05
            ),
            reverse=True,
        )
        return [name for _, name in pushes[:top]]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"version": MODEL_VERSION, **self.__getstate__()}, path, compress=3)
        return path

    @classmethod
    def load(cls, path: str | Path) -> SpamModel:
        return cls._from_state(joblib.load(Path(path)), str(path))

    def to_bytes(self) -> bytes:
        """The same bytes `save` writes, for storing the model in a database row."""
        buffer = io.BytesIO()
        joblib.dump({"version": MODEL_VERSION, **self.__getstate__()}, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "stored model") -> SpamModel:
        """Read what `to_bytes` (or `save`) wrote; raises ValueError for another version."""
        return cls._from_state(joblib.load(io.BytesIO(data)), source)

    @classmethod
    def _from_state(cls, state: Any, source: str) -> SpamModel:
        if not isinstance(state, dict) or state.get("version") != MODEL_VERSION:
            found = state.get("version") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"{source}: expected a {MODEL_VERSION} model, got {found!r}")
        return cls(
            state["config"], state["classifier"], state.get("info", {}), state.get("rehearsal", [])
        )

    def __getstate__(self) -> dict[str, Any]:
        # Vectorizers are rebuilt from config, so pickles (joblib, deepcopy, Celery) stay small.
        return {
            "config": self.config,
            "classifier": self.classifier,
            "info": self.info,
            "rehearsal": self.rehearsal,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["config"], state["classifier"], state["info"], state["rehearsal"])  # type: ignore[misc]


@lru_cache(maxsize=1)
def load_default() -> SpamModel:
    """The shipped model, loaded once per process."""
    return SpamModel.load(DEFAULT_MODEL_PATH)


def fit(
    model: SpamModel,
    subs: list[Submission],
    labels: list[bool],
    epochs: int = 10,
    seed: int = 0,
    progress: Any = None,
    rehearsal_size: int = 400,
) -> SpamModel:
    """Train in place with shuffled partial_fit epochs, and keep a rehearsal sample for `learn`.

    `progress` is an optional callable wrapping the epoch range (e.g. tqdm).
    """
    x = model.features.transform(subs)
    y = np.asarray(labels, dtype=int)
    rng = np.random.default_rng(seed)
    epoch_range = progress(range(epochs)) if progress else range(epochs)
    with warnings.catch_warnings():
        # One epoch per call is intended; sklearn would warn about "max_iter reached".
        warnings.simplefilter("ignore", category=UserWarning)
        for _ in epoch_range:
            order = rng.permutation(len(y))
            model.classifier.partial_fit(x[order], y[order], classes=np.array([0, 1]))
    keep = rng.permutation(len(y))[:rehearsal_size]
    model.rehearsal = [(subs[i], bool(labels[i])) for i in sorted(keep)]
    return model


def learn(
    model: SpamModel,
    examples: list[tuple[Submission, bool]],
    step: float = 0.05,
    max_passes: int = 30,
    confidence: float = 0.9,
    rehearse: int = 8,
    seed: int = 0,
) -> SpamModel:
    """Learn from moderator decisions (True = spam); returns an updated copy, the input is kept.

    Takes small constant SGD steps over the examples, each pass mixed with `rehearse` times as
    many replayed training comments, until the model agrees with every example at `confidence`
    (or `max_passes`): a few decisions move the model just enough, without erasing the rest.
    """
    if not examples:
        return model
    updated = copy.deepcopy(model)
    clf = updated.classifier
    x = updated.features.transform([s for s, _ in examples])
    y = np.array([int(is_spam) for _, is_spam in examples])
    replay = updated.rehearsal
    x_replay = updated.features.transform([s for s, _ in replay]) if replay else None
    y_replay = np.array([int(is_spam) for _, is_spam in replay])
    rng = np.random.default_rng(seed)
    schedule = {"learning_rate": clf.learning_rate, "eta0": clf.eta0}
    # Decisions teach what spam looks like, not how common it is: the intercept (prior) stays.
    intercept = clf.intercept_.copy()
    clf.set_params(learning_rate="constant", eta0=step)
    try:
        for _ in range(max_passes):
            proba = clf.predict_proba(x)[:, 1]
            if np.where(y == 1, proba >= confidence, proba <= 1 - confidence).all():
                break
            xb, yb = x, y
            if x_replay is not None:
                pick = rng.choice(
                    len(y_replay), size=min(len(y_replay), rehearse * len(y)), replace=False
                )
                xb, yb = (
                    sp.vstack([x, x_replay[pick]], format="csr"),
                    np.concatenate([y, y_replay[pick]]),
                )
            order = rng.permutation(len(yb))
            clf.partial_fit(xb[order], yb[order], classes=np.array([0, 1]))
            clf.intercept_[:] = intercept
    finally:
        clf.set_params(**schedule)
    updated.info = {
        **model.info,
        "learned_examples": model.info.get("learned_examples", 0) + len(examples),
    }
    return updated


def check_spam(
    sub: Submission, score: float, policy: SitePolicy, model: SpamModel | None = None
) -> CheckResult:
    """Map a spam probability to a verdict with the site's thresholds (options: spam_threshold,
    review_threshold). `model`, when given, names the metadata signals behind a high score."""
    signals = model.signals(sub, top=len(SIGNALS)) \
        if model is not None and score >= policy.review_threshold else []
    shown = ", ".join(signals[:2])
    detail = f"spam model probability {score:.2f}" + (f" ({shown})" if shown else "")
    if score >= policy.spam_threshold and model is not None and _only_links(model, sub, signals):
        # Readers cite sources too: a link with no other spam signal goes to a person instead.
        return CheckResult(CHECK, Verdict.HOLD, "spam.model_review",
                           detail + "; links are its only spam signal", score)
    if score >= policy.spam_threshold:
        return CheckResult(CHECK, Verdict.SPAM, "spam.model", detail, score)
    if score >= policy.review_threshold:
        return CheckResult(CHECK, Verdict.HOLD, "spam.model_review", detail, score)
    return CheckResult(CHECK, Verdict.PASS, "spam.ok", detail, score)


# Signals that only say "there are links"; the training data had almost no ham with links.
_LINK_ONLY_SIGNALS = frozenset({"links", "several domains", "website given", "length"})


def _only_links(model: SpamModel, sub: Submission, signals: list[str]) -> bool:
    return model.features.has_links(sub) and set(signals) <= _LINK_ONLY_SIGNALS
