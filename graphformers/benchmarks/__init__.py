"""Benchmark suites run by ``python -m graphformers.bench``."""
