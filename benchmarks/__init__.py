"""Benchmarks: `python -m benchmarks <topic>` regenerates that topic's section of BENCHMARKS.md."""
