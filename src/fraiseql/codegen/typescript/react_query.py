"""TanStack Query (v5) hooks: ``useXQuery(variables, options)`` and ``useXMutation(options)``.

The hooks call a ``request`` function the project writes, imported from the ``fetcher``
module path, with this signature (graphql-request's ``request`` fits in one line)::

    export function request<TResult, TVariables>(
      document: TypedDocumentNode<TResult, TVariables>, variables: TVariables,
    ): Promise<TResult>

Queries are keyed ``[operationName, variables]``; ``<name>QueryKey(variables)`` gives the key
for invalidation. Subscriptions get no hook (TanStack Query has no subscription primitive).
"""

from __future__ import annotations

from graphql import OperationType

from fraiseql.codegen.typescript.operations import OperationNames
from fraiseql.codegen.typescript.printer import INDENT, string_literal

IMPORTS = [
    "import {",
    f"{INDENT}useMutation,",
    f"{INDENT}useQuery,",
    f"{INDENT}type UseMutationOptions,",
    f"{INDENT}type UseMutationResult,",
    f"{INDENT}type UseQueryOptions,",
    f"{INDENT}type UseQueryResult,",
    '} from "@tanstack/react-query";',
]


def fetcher_import(fetcher: str) -> list[str]:
    """The import of the project's ``request`` function."""
    return [f"import {{ request }} from {string_literal(fetcher)};"]


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def query_hook(names: OperationNames) -> list[str]:
    """``<name>QueryKey`` and ``use<Name>Query``."""
    key_type = f"readonly [{string_literal(names.operation)}, {names.variables}]"
    variables = (
        f"variables: {names.variables}"
        if names.has_required_variables
        else f"variables: {names.variables} = {{}}"
    )
    key_function = _lower_first(names.result) + "Key"
    options = (
        f'Omit<UseQueryOptions<{names.result}, Error, TData, {key_type}>, "queryKey" | "queryFn">'
    )
    return [
        f"/** The query key of `{names.operation}` (for invalidation and prefetching). */",
        f"export function {key_function}({variables}): {key_type} {{",
        f"{INDENT}return [{string_literal(names.operation)}, variables] as const;",
        "}",
        "",
        f"/** Runs query `{names.operation}` with TanStack Query. */",
        f"export function use{names.result}<TData = {names.result}>(",
        f"{INDENT}{variables},",
        f"{INDENT}options?: {options},",
        "): UseQueryResult<TData, Error> {",
        f"{INDENT}return useQuery({{",
        f"{INDENT * 2}queryKey: {key_function}(variables),",
        f"{INDENT * 2}queryFn: () => request({names.document}, variables),",
        f"{INDENT * 2}...options,",
        f"{INDENT}}});",
        "}",
    ]


def mutation_hook(names: OperationNames) -> list[str]:
    """``use<Name>Mutation``: ``mutate(variables)`` runs the mutation."""
    generics = f"{names.result}, Error, {names.variables}, TContext"
    return [
        f"/** Runs mutation `{names.operation}` with TanStack Query: `mutate(variables)`. */",
        f"export function use{names.result}<TContext = unknown>(",
        f'{INDENT}options?: Omit<UseMutationOptions<{generics}>, "mutationFn">,',
        f"): UseMutationResult<{generics}> {{",
        f"{INDENT}return useMutation({{",
        f"{INDENT * 2}mutationKey: [{string_literal(names.operation)}],",
        f"{INDENT * 2}mutationFn: (variables: {names.variables}) =>",
        f"{INDENT * 3}request({names.document}, variables),",
        f"{INDENT * 2}...options,",
        f"{INDENT}}});",
        "}",
    ]


def hooks(names: OperationNames) -> list[str]:
    """The hook of one operation (none for a subscription)."""
    if names.kind is OperationType.QUERY:
        return query_hook(names)
    if names.kind is OperationType.MUTATION:
        return mutation_hook(names)
    return []
