"""Where a mutation field's writes are undone: its own savepoint, or the request transaction."""

from __future__ import annotations

from asyncpg.transaction import Transaction

from fraiseql.db.session import RequestSession


class WriteScope:
    """The undo boundary of one mutation field.

    With several mutation fields in an operation each field gets a savepoint, so one field's
    failure leaves the others' writes; alone, a field's failure rolls the request back.
    """

    def __init__(self, session: RequestSession, savepoint: Transaction | None) -> None:
        self._session = session
        self._savepoint = savepoint

    @classmethod
    async def open(cls, session: RequestSession, *, own_savepoint: bool) -> WriteScope:
        """Start the field's savepoint when it has its own, else use the request transaction."""
        savepoint = None
        if own_savepoint:
            savepoint = (await session.connection()).transaction()
            await savepoint.start()
        return cls(session, savepoint)

    async def undo(self) -> None:
        """Undo the field's writes (the savepoint, or the whole request at its end)."""
        if self._savepoint is not None:
            await self._savepoint.rollback()
        else:
            self._session.mark_rollback()

    async def keep(self) -> None:
        """Keep the field's writes (release its savepoint, if it has one)."""
        if self._savepoint is not None:
            await self._savepoint.commit()
