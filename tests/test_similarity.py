"""Near-duplicate fingerprints and the recent-text indexes (memory and real Redis)."""

from __future__ import annotations

import random

import redis

from worker.checks.similarity import bands, near, simhash
from worker.neardup import (
    MAX_CANDIDATES_PER_BAND,
    Entry,
    MemoryRecentTexts,
    Posting,
    RedisRecentTexts,
)

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


def _record(index, scope: str, posting: Posting, at: float, window: float) -> int:
    return index.record_all([Entry(scope, posting, at, window)])[0]


def _exercise(index) -> None:
    first, other_author, same_place, unrelated = _postings()
    assert _record(index, "s", first, 1000.0, 3600) == 0
    assert _record(index, "s", other_author, 1001.0, 3600) == 1
    # The same author on the same article is the exact-duplicate check's business.
    assert _record(index, "s", same_place, 1002.0, 3600) == 1
    assert _record(index, "s", unrelated, 1003.0, 3600) == 0
    # Recording again (a redelivered task) gives the first answer: only earlier copies count.
    assert _record(index, "s", other_author, 1001.0, 3600) == 1
    # Outside the window, nothing counts; other scopes (sites) are separate.
    assert _record(index, "s", Posting("9", "dave", "a9", other_author.fingerprint),
                   1001.0 + 7200, 3600) == 0
    assert _record(index, "t", Posting("8", "erin", "a8", first.fingerprint), 1004.0, 3600) == 0


def _exercise_batch(index) -> None:
    # One call for a whole batch: each posting sees those recorded before it in the call.
    first, other_author, same_place, unrelated = _postings()
    entries = [Entry("b", p, 2000.0 + n, 3600)
               for n, p in enumerate((first, other_author, same_place, unrelated))]
    assert index.record_all(entries) == [0, 1, 1, 0]


def test_memory_index():
    _exercise(MemoryRecentTexts())
    _exercise_batch(MemoryRecentTexts())


def test_redis_index(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    _exercise(RedisRecentTexts(client, prefix="test:nd:"))
    _exercise_batch(RedisRecentTexts(client, prefix="test:nd:"))
    client.close()


def test_redis_index_reads_a_bounded_number_of_copies_during_a_flood(redis_url):
    # 120 authors paste the same text: the next copy reads only the newest ones per band, so
    # a decision's cost stays flat however long the flood goes on; one copy already decides.
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    index = RedisRecentTexts(client, prefix="test:flood:")
    fp = simhash(SPAM)
    flood = [Entry("s", Posting(str(n), f"author{n}", f"a{n}", fp), 1000.0 + n, 3600)
             for n in range(120)]
    counts = index.record_all(flood)
    assert counts[:3] == [0, 1, 2]
    # Without the bound this would be 119; the newest read include the posting itself.
    assert counts[-1] == MAX_CANDIDATES_PER_BAND - 1
    client.close()


def test_redis_index_counts_exactly_what_the_memory_index_counts(redis_url):
    # The Redis script filters candidates by distance itself, on two 32-bit halves: variants
    # of one fingerprint, 0 to 6 bits apart anywhere in the 64 bits (the top four are in no
    # band), must be counted exactly as Python's own comparison counts them.
    rng = random.Random(7)
    base = rng.getrandbits(64)
    fingerprints = [base, base ^ (1 << 63), base ^ (1 << 31 | 1 << 32), base ^ 0xF << 60,
                    # Same low half, five bits apart in the high one: far, though bands match.
                    base ^ 0b11111 << 40, base ^ (0b111 << 2 | 0b11 << 50)]
    for _ in range(40):
        flipped = base
        for bit in rng.sample(range(64), rng.randint(0, 6)):
            flipped ^= 1 << bit
        fingerprints.append(flipped)
    fingerprints += [rng.getrandbits(64) for _ in range(5)] + [0, 2**64 - 1, 1 << 32]
    entries = [Entry("s", Posting(str(n), f"author{n}", f"a{n}", fp), 1000.0 + n, 3600)
               for n, fp in enumerate(fingerprints)]
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    counts = RedisRecentTexts(client, prefix="test:exact:").record_all(entries)
    client.close()
    assert counts == MemoryRecentTexts().record_all(entries)
    assert len(set(counts)) > 5  # near and far variants both present


def test_redis_script_returns_only_near_candidates(redis_url):
    # The worker no longer parses every chance collision of a band: the script leaves out
    # postings more than MAX_DISTANCE bits away, including those apart only in the high half.
    base = simhash(SPAM)
    far_high = Posting("2", "bob", "a2", base ^ 0b11111 << 40)  # same low half, 5 bits apart
    far_low = Posting("3", "carol", "a3", base ^ 0b11111)
    close = Posting("4", "dave", "a4", base ^ (1 << 3 | 1 << 33 | 1 << 62))
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    index = RedisRecentTexts(client, prefix="test:filter:")
    index.record_all([Entry("s", p, 1000.0 + n, 3600)
                      for n, p in enumerate((far_high, far_low, close))])
    # Written before fingerprints were padded to 16 digits: left for the worker to compare.
    legacy = f"6|frank|a6|{(base ^ 0b11111 << 40) & (2**56 - 1):x}"
    client.zadd(f"test:filter:s:0:{bands(base)[0]:x}", {legacy: 1005.0})
    [found] = index.near_candidates([Entry("s", Posting("5", "erin", "a5", base), 1010.0, 3600)])
    client.close()
    assert sorted(Posting.decode(raw.decode()).comment for raw in found) == ["4", "5", "6"]
