"""Benchmarks of the platform (`make bench`); they print figures, they are not tests."""
