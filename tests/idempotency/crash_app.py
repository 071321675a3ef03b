"""The notes API for a uvicorn process that dies (SIGKILL) right after a mutation commits.

The process is killed after COMMIT returned and before the response is written: the crash
that idempotency keys exist for. ``uvicorn --factory tests.idempotency.crash_app:create``
with ``FRAISEQL_TEST_NOTES_DSN`` set.
"""

from __future__ import annotations

import os
import signal
from types import TracebackType

from starlette.applications import Starlette
from tests.idempotency.notes import build_app, build_schema

from fraiseql import Idempotency
from fraiseql.db.session import RequestSession


def create() -> Starlette:
    """The app, with every writing request session killing the process once it committed."""
    end_session = RequestSession.__aexit__

    async def die_after_commit(
        self: RequestSession,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        writing = not self._readonly  # the health checks read; only mutations write
        await end_session(self, exc_type, exc, traceback)
        if writing and exc_type is None and not self.rolls_back:
            os.kill(os.getpid(), signal.SIGKILL)

    RequestSession.__aexit__ = die_after_commit  # type: ignore[method-assign]
    schema = build_schema(
        os.environ["FRAISEQL_TEST_NOTES_DSN"], Idempotency(install=True, purge_interval=None)
    )
    return build_app(schema)
