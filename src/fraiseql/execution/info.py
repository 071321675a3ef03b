"""What a Python resolver receives as ``info``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode, OperationType

if TYPE_CHECKING:
    from fraiseql.db.commands import CommandRepository
    from fraiseql.db.repository import QueryRepository


@dataclass(slots=True)
class Info:
    """The field being resolved and the request around it.

    ``context`` is the dict built by the app's context getter (it holds ``request``);
    ``repository`` reads read models on the request's own connection and transaction;
    ``commands`` (mutations only) calls mutation functions in that same transaction.
    """

    field_name: str
    parent_type: str
    path: list[str | int]
    field_nodes: tuple[FieldNode, ...]
    context: dict[str, Any]
    schema: GraphQLSchema
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    repository: QueryRepository

    @property
    def commands(self) -> CommandRepository:
        """Mutation functions, called in the request transaction with the result contract.

        Only a mutation may write: in a query this raises (an internal error).
        """
        if self.operation.operation != OperationType.MUTATION:
            raise RuntimeError("info.commands is only available while resolving a mutation")
        from fraiseql.db.commands import CommandRepository

        return CommandRepository(self.repository.session)
