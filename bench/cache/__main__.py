"""``python -m bench.cache``: see :mod:`bench.cache.run`."""

from bench.cache.run import main

main()
