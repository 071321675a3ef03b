"""Benchmarks of FraiseQL's native core: ``python -m bench.run`` (``make bench``) runs them all."""
