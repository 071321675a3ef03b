"""``python -m bench.subscriptions``: see :mod:`bench.subscriptions.run`."""

from bench.subscriptions.run import main

main()
