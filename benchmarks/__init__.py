"""Benchmark scripts: run them directly (`python benchmarks/checkin.py`); they print figures."""
