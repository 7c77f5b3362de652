"""Comment texts for the load: random word mixes, so no two look like near-duplicates.

Templated bodies that differ only by a number are (rightly) caught by the near-duplicate check
and decided as spam, which is not the load a real site sees.
"""

from __future__ import annotations

import random

WORDS = """budget rail line school plan river election housing report trade talks library
council mayor minister teacher nurse doctor farmer market price cost tax road bridge bus train
station harbour airport park garden forest water power grid solar wind coal energy bill rent
wage job factory office shop street village town city county region border court judge law
vote party debate poll survey study data figure chart number table source reporter editor
article paragraph quote interview photo story week month year morning evening summer winter
spring autumn rain storm flood drought heat cold fire smoke health clinic hospital ward bed
queue delay strike union pension benefit grant fund loan debt bank interest inflation growth
export import deal treaty summit visit speech promise plan target goal result outcome impact
""".split()
OPENERS = ["I think", "Honestly,", "Good point about", "Not sure about", "Thanks for covering",
           "My neighbour says", "As a reader from the north,", "Interesting take on",
           "I disagree with", "Worth adding that"]


def comment_text(rng: random.Random, words: int = 14) -> str:
    """One plausible-looking comment of random words (distinct shingles every time)."""
    picked = " ".join(rng.choice(WORDS) for _ in range(words))
    return f"{rng.choice(OPENERS)} the {picked}."
