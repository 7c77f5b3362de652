"""Near-duplicate fingerprints and the recent-text indexes (memory and real Redis)."""

from __future__ import annotations

import redis

from worker.checks.similarity import near, simhash
from worker.neardup import MemoryRecentTexts, Posting, RedisRecentTexts

SPAM = "Hey guys check out my new channel where I post music covers every week please subscribe"


def test_small_edits_keep_fingerprints_close_and_other_texts_far():
    base = simhash(SPAM)
    assert near(base, simhash(SPAM.upper() + "!!!"))
    assert near(base, simhash("  " + SPAM.replace(" ", "  ").lower() + " :) ✨"))
    assert near(base, simhash(SPAM.removeprefix("Hey ")))
    other = simhash("The treaty negotiations described here seem unlikely to succeed given "
                    "the long history of the region")
    assert not near(base, other)


def test_short_or_empty_texts_are_not_fingerprinted():
    assert simhash("great song!") is None
    assert simhash("") is None
    assert simhash("ü " * 3) is None


def test_fingerprint_is_stable_and_bounded_for_huge_bodies():
    assert simhash(SPAM) == simhash(SPAM)
    huge = simhash("word " * 50_000)
    assert isinstance(huge, int) and 0 <= huge < 2**64


def _postings():
    fp = simhash(SPAM)
    return (Posting("1", "alice", "a1", fp), Posting("2", "bob", "a2", fp),
            Posting("3", "alice", "a1", fp), Posting("4", "carol", "a3",
                                                     simhash("An entirely different remark "
                                                             "about the budget and taxes")))


def _exercise(index) -> None:
    first, other_author, same_place, unrelated = _postings()
    assert index.record("s", first, 1000.0, 3600) == 0
    assert index.record("s", other_author, 1001.0, 3600) == 1
    # The same author on the same article is the exact-duplicate check's business.
    assert index.record("s", same_place, 1002.0, 3600) == 1
    assert index.record("s", unrelated, 1003.0, 3600) == 0
    # Recording again (a redelivered task) gives the first answer: only earlier copies count.
    assert index.record("s", other_author, 1001.0, 3600) == 1
    # Outside the window, nothing counts; other scopes (sites) are separate.
    assert index.record("s", Posting("9", "dave", "a9", other_author.fingerprint),
                        1001.0 + 7200, 3600) == 0
    assert index.record("t", Posting("8", "erin", "a8", first.fingerprint), 1004.0, 3600) == 0


def test_memory_index():
    _exercise(MemoryRecentTexts())


def test_redis_index(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    _exercise(RedisRecentTexts(client, prefix="test:nd:"))
    client.close()
