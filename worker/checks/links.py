"""Too many links: the classic sign of link spam (WordPress's comment_max_links)."""

import re

from service.policy import SitePolicy
from worker.checks import CheckResult, Submission, Verdict, passed

# Schemes and bare www. hosts both count, as readers and spammers write both.
_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)


def find_links(text: str) -> list[str]:
    return _LINK.findall(text)


def count_links(sub: Submission) -> int:
    return len(find_links(sub.body)) + (1 if sub.url else 0)


def check_links(sub: Submission, policy: SitePolicy) -> CheckResult:
    """Reads policy.max_links: more links than that in body + website goes to review."""
    links = count_links(sub)
    if links > policy.max_links:
        return CheckResult("links", Verdict.HOLD, "links.too_many",
                           f"{links} links, the site allows {policy.max_links}", float(links))
    return passed("links", f"{links} links", float(links))
