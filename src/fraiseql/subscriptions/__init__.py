"""Subscriptions: database events fanned out to live GraphQL subscriptions.

One LISTEN connection per process (:mod:`.listener`) receives what ``fraiseql_notify`` sends
(:mod:`.events`); the hub (:mod:`.hub`) hands each event to the subscriptions that follow its
entity, grouped so that subscribers asking the same thing with the same claims share one read.
The transports (``asgi/ws.py``, ``asgi/sse.py``) only carry the responses.
"""
