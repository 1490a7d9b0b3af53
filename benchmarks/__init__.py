"""Benchmarks that print figures (not timed tests). Run as ``python -m benchmarks.<name>``."""
