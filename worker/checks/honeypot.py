"""The hidden form field only bots fill in."""

from worker.checks import CheckResult, Submission, Verdict, passed


def check_honeypot(sub: Submission) -> CheckResult:
    if sub.honeypot.strip():
        return CheckResult("honeypot", Verdict.SPAM, "honeypot.filled",
                           "the hidden field that people never see was filled in")
    return passed("honeypot")
