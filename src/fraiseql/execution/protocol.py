"""The narrow interface between transports (HTTP, later WebSocket) and the executor."""

from __future__ import annotations

from typing import Any, Protocol

from fraiseql.execution.outcome import ExecutionResponse, GraphQLRequest, PreparedOperation


class OperationExecutor(Protocol):
    """Prepares and runs GraphQL operations; implemented by :class:`fraiseql.Schema`."""

    def prepare(self, request: GraphQLRequest) -> PreparedOperation:
        """Parse, validate and select the operation; raise ``RequestError`` when it cannot run."""
        ...

    async def execute(
        self,
        prepared: PreparedOperation,
        request: GraphQLRequest,
        context: dict[str, Any],
    ) -> ExecutionResponse:
        """Run the operation with the request's variables; raise ``RequestError`` for bad ones."""
        ...
