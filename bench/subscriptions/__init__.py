"""Subscription fan-out: FraiseQL against a hand-written floor, ``python -m bench.subscriptions``.

One run measures, for each system in turn, the time from the commit of a ``fraiseql_notify``
event until the last of N WebSocket subscribers received its ``next`` frame, the events per
second it sustains, and the server's memory per idle subscribed connection. See ``run``.
"""
