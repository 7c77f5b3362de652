"""A reference client for the change feed (stdlib only, so integrators can copy it as is).

    client = FeedClient("https://comments.example", token, "news", FileCursor("news.cursor"))
    for event in client.iter_events(wait=30):
        handle(event)          # the cursor is saved after handle() returns, event by event

`iter_events` saves the cursor only once the caller is done with an event, so a crash
re-delivers at most the event being handled and never skips one. `poll` saves the cursor
before returning the batch: simpler, but a crash mid-batch loses the rest of that batch.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# The server bounds long-polls at 30 s; the socket waits a little longer than the poll.
MAX_WAIT = 30
NETWORK_SLACK = 10


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    type: str
    comment: dict[str, Any]

    @property
    def comment_id(self) -> int:
        return int(self.comment["id"])

    @property
    def article(self) -> str:
        return str(self.comment["article"])


class FeedError(Exception):
    """The server refused the request (status and the JSON error code are kept)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class CursorStore(Protocol):
    def load(self) -> int: ...

    def save(self, seq: int) -> None: ...


class MemoryCursor:
    def __init__(self, seq: int = 0) -> None:
        self.seq = seq

    def load(self) -> int:
        return self.seq

    def save(self, seq: int) -> None:
        self.seq = seq


class FileCursor:
    """The cursor in a small text file, replaced atomically so a crash never leaves half of it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> int:
        try:
            return int(self.path.read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def save(self, seq: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{seq}\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


class FeedClient:
    """Polls GET /api/v1/changes for one site and remembers where it got to."""

    def __init__(self, base_url: str, token: str, site: str,
                 cursor_store: CursorStore | None = None, limit: int = 100,
                 timeout: float = 10) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError("base_url must be an http or https URL")
        self.base_url = base_url.rstrip("/")
        self.token, self.site, self.limit, self.timeout = token, site, limit, timeout
        self.cursor = cursor_store or MemoryCursor()
        self._etag: tuple[int, str] | None = None  # (since, ETag) of the last empty answer

    def fetch(self, since: int, wait: int = 0) -> tuple[list[Event], int]:
        """One request: the events after `since` and the next cursor; stores nothing."""
        wait = max(0, min(int(wait), MAX_WAIT))
        query = urllib.parse.urlencode(
            {"site": self.site, "since": since, "limit": self.limit, "wait": wait})
        # S310: base_url is checked to be http(s) in __init__.
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}/api/v1/changes?{query}",
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"})
        if self._etag and self._etag[0] == since:
            request.add_header("If-None-Match", self._etag[1])
        try:
            with urllib.request.urlopen(request, timeout=self.timeout + wait) as answer:  # noqa: S310
                body, etag = json.load(answer), answer.headers.get("ETag")
        except urllib.error.HTTPError as error:
            with error:
                if error.code == 304:
                    return [], since
                raise _feed_error(error) from None
        events = [Event(int(e["seq"]), str(e["type"]), dict(e["comment"]))
                  for e in body["events"]]
        self._etag = (since, etag) if etag and not events else None
        return events, int(body["next_since"])

    def poll(self, wait: int = 0) -> list[Event]:
        """The next batch after the stored cursor; the cursor moves past it before returning."""
        events, next_since = self.fetch(self.cursor.load(), wait)
        if next_since != self.cursor.load():
            self.cursor.save(next_since)
        return events

    def iter_events(self, wait: int = MAX_WAIT,
                    stop: Callable[[], bool] = lambda: False) -> Iterator[Event]:
        """Every event, forever (or until `stop()`); each is saved once the caller is done."""
        while not stop():
            events, _ = self.fetch(self.cursor.load(), wait)
            for event in events:
                yield event
                # Back from the caller: this event is handled, so never deliver it again.
                self.cursor.save(event.seq)


def _feed_error(error: urllib.error.HTTPError) -> FeedError:
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        body = {}
    return FeedError(error.code, str(body.get("error", "http_error")),
                     str(body.get("message", error.reason)))
