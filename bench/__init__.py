"""Benchmark harness for issue 7 (see bench/README.md); not part of the installed package."""
