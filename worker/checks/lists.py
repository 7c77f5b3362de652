"""WordPress-style site lists: moderation keys hold a comment, the blocklist marks it spam."""

from service.policy import SitePolicy
from worker.checks import CheckResult, Submission, Verdict, passed

FIELDS = ("name", "email", "url", "body", "ip")


def first_match(sub: Submission, keys: list[str]) -> tuple[str, str] | None:
    """(field, key) of the first key found inside a field, case-insensitively, or None."""
    if not keys:
        return None
    folded = {field: getattr(sub, field).casefold() for field in FIELDS}
    for key in keys:
        needle = key.strip().casefold()
        if not needle:
            continue
        for field in FIELDS:
            if needle in folded[field]:
                return field, key.strip()
    return None


def check_blocklist(sub: Submission, policy: SitePolicy) -> CheckResult:
    """Reads policy.blocklist (substring match in name, email, url, body, IP)."""
    if match := first_match(sub, policy.blocklist):
        field, key = match
        return CheckResult("blocklist", Verdict.SPAM, f"blocklist.{field}",
                           f"the {field} contains the blocked word {key!r}")
    return passed("blocklist")


def check_moderation_keys(sub: Submission, policy: SitePolicy) -> CheckResult:
    """Reads policy.moderation_keys (substring match in name, email, url, body, IP)."""
    if match := first_match(sub, policy.moderation_keys):
        field, key = match
        return CheckResult("moderation_keys", Verdict.HOLD, f"moderation_keys.{field}",
                           f"the {field} contains the moderation key {key!r}")
    return passed("moderation_keys")
