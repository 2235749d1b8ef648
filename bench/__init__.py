"""Causerie's benchmark suite: `python -m bench` from the repository root.

Not part of the test suite. Results and how to read them: docs/performance.md.
"""
