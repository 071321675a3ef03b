"""The response-cache benchmark (``python -m bench.cache``): see :mod:`bench.cache.run`."""
