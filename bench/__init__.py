"""Benchmarks of Yimen (see README.md)."""
