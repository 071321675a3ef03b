"""The GraphQL-over-HTTP endpoint: a plain ASGI callable in front of an operation executor.

It implements the GraphQL-over-HTTP draft (https://graphql.github.io/graphql-over-http/draft/):
GET and POST requests, ``Accept`` negotiation between ``application/graphql-response+json`` and
``application/json``, the status code rules of each media type, and 405 for mutations over GET.
It adds the defaults of DESIGN.md section 8: CSRF-safe content types only on POST, a required
header on requests a browser could send cross-site without a preflight (see
:mod:`fraiseql.asgi.csrf`), a body size limit, masked internal errors, and cancellation of the
execution when the client disconnects.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, cast

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send

from fraiseql.asgi import media
from fraiseql.asgi.answer import Answer, RequestHeaders, request_with_headers
from fraiseql.asgi.batch import decode_post_body, run_batch
from fraiseql.asgi.body import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_MAX_BODY_SIZE,
    check_content_length,
    read_body,
)
from fraiseql.asgi.csrf import DEFAULT_CSRF_HEADERS as DEFAULT_CSRF_HEADERS
from fraiseql.asgi.csrf import CSRFPolicy, CSRFPrevention
from fraiseql.asgi.disconnect import cancel_on_disconnect
from fraiseql.asgi.errors import (
    INTERNAL_SERVER_ERROR,
    ClientDisconnectedError,
    TransportError,
    error_body,
    request_errors_body,
)
from fraiseql.asgi.graphiql import GraphiQLOption, graphiql_mode, graphiql_page
from fraiseql.asgi.params import parse_query_string, request_from_query_params
from fraiseql.asgi.sse import event_stream, event_stream_response
from fraiseql.asgi.uploads import UploadReader, is_multipart
from fraiseql.asgi.ws import SubscriptionExecutor
from fraiseql.db.admission import AdmissionController
from fraiseql.execution.idempotency import IDEMPOTENCY_HEADER, IdempotencyKeyError
from fraiseql.execution.outcome import (
    GraphQLRequest,
    PreparedOperation,
    RequestError,
    ServiceUnavailable,
)
from fraiseql.execution.protocol import OperationExecutor
from fraiseql.observability import hooks
from fraiseql.observability.instrumentation import Instrumentation
from fraiseql.security.auth import AUTH_SCOPE_KEY, Authenticator, AuthError, AuthInfo
from fraiseql.uploads import Uploads

logger = logging.getLogger("fraiseql.asgi")

ContextGetter = Callable[[Request], Awaitable[dict[str, Any]] | dict[str, Any]]
"""Builds the execution context of a request; the handler adds ``"request"`` to it."""

ALLOWED_METHODS = "GET, POST"


class GraphQLHTTPHandler:
    """ASGI application serving GraphQL over HTTP with an :class:`OperationExecutor`.

    ``context_getter`` (sync or async) builds the context dict of each request; the handler
    always sets ``context["request"]`` to the Starlette request. A
    ``starlette.exceptions.HTTPException`` raised by it propagates to the enclosing Starlette or
    FastAPI application (use it to answer 401/403); any other exception is masked as a 500.

    CSRF prevention (:mod:`fraiseql.asgi.csrf`): a request a browser could send cross-site
    without a CORS preflight (a GET, or a POST without a JSON ``Content-Type``) must carry one of
    ``csrf_required_headers`` (any value), else it is refused with 400 and code
    ``CSRF_HEADER_REQUIRED``. ``csrf_prevention`` says when: ``"auto"`` (the default) for
    requests with ambient credentials (a ``Cookie``, or a ``Basic``/``Digest``/``Negotiate``/
    ``NTLM`` ``Authorization``), ``"always"`` for every request, ``"off"`` never. A POST must
    have a JSON ``Content-Type`` in any case (else 415), so in practice the rule concerns GET.
    The GraphiQL page is served without the header. ``csrf_require_header_on_get=True`` is the
    older spelling of ``csrf_prevention="always"`` and ``csrf_get_header_names`` the older name
    of ``csrf_required_headers``; both are still accepted.

    ``max_batch_size`` turns batching on: a POST body may then be a JSON array of up to that
    many requests, answered by an array of results (see :mod:`fraiseql.asgi.batch`). ``None``
    (the default) refuses arrays with 400.

    ``auth`` (such as :class:`fraiseql.JWTAuth`) authenticates every request before anything
    else runs (the GraphiQL page excepted): a refusal is answered with its status (401, or 403
    for a role that is not allowed), a ``WWW-Authenticate`` header and a GraphQL error with
    code ``UNAUTHENTICATED`` (or ``FORBIDDEN``). The caller is in the context as
    ``context["auth"]``, and the context getter can read it with
    :func:`fraiseql.security.auth.auth_info`.

    ``uploads`` (a :class:`fraiseql.Uploads`) accepts ``multipart/form-data`` POSTs, the GraphQL
    multipart request spec, read by :mod:`fraiseql.asgi.uploads`; without it they get 415.
    """

    def __init__(
        self,
        executor: OperationExecutor,
        *,
        graphiql: GraphiQLOption = True,
        context_getter: ContextGetter | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
        csrf_prevention: CSRFPrevention = "auto",
        csrf_required_headers: Iterable[str] = DEFAULT_CSRF_HEADERS,
        csrf_require_header_on_get: bool = False,
        csrf_get_header_names: Iterable[str] | None = None,
        max_batch_size: int | None = None,
        instrumentation: Instrumentation | None = None,
        auth: Authenticator | None = None,
        uploads: Uploads | None = None,
    ) -> None:
        if max_body_size < 0:
            raise ValueError("max_body_size must not be negative")
        if body_timeout is not None and not body_timeout > 0:
            raise ValueError("body_timeout must be a positive number of seconds (or None)")
        if max_batch_size is not None and max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1 (or None: batching off)")
        self.max_batch_size = max_batch_size
        self.executor = executor
        self.graphiql = graphiql_mode(graphiql)
        self.context_getter = context_getter
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout
        self.csrf = CSRFPolicy.from_options(
            csrf_prevention,
            csrf_required_headers,
            csrf_require_header_on_get,
            csrf_get_header_names,
        )
        self.instrumentation = instrumentation
        self.auth = auth
        self.uploads = (
            None
            if uploads is None
            else UploadReader(
                uploads,
                self.csrf,
                max_field_size=max_body_size,
                timeout=body_timeout,
                max_batch_size=max_batch_size,
            )
        )
        """Reads multipart requests (file uploads, see :mod:`fraiseql.asgi.uploads`); off: 415."""
        self.streams = callable(getattr(executor, "subscribe", None))
        """Whether operations may be answered as Server-Sent Events (the executor subscribes)."""
        admission = getattr(getattr(executor, "database", None), "admission", None)
        self.admission = admission if isinstance(admission, AdmissionController) else None
        """The database's admission by time in queue, asked before a request is read."""
        self._plain_post = self.admission is None and self.auth is None
        """Whether a JSON POST may take :meth:`_json_post` (nothing to ask before its headers)."""
        self._json_post_types: dict[tuple[bytes | None, bytes | None], str | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request."""
        if scope["type"] != "http":
            raise RuntimeError(f"GraphQLHTTPHandler serves HTTP only, not {scope['type']!r}")
        try:
            response = await self._answer(scope, receive)
        except (ClientDisconnectedError, HTTPException):
            raise
        except Exception:
            # Before anything was sent (instrumentation, malformed scope): a plain 500, as
            # Starlette's error middleware answers, and the error for the server to log.
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        if response is not None:
            await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Response | Answer | None:
        """The response to send, or ``None`` when the client went away.

        Raises ``HTTPException`` (the context getter's 401/403, answered by Starlette).
        """
        instrumentation = self.instrumentation
        if instrumentation is None:
            try:
                return await self._respond(*request_with_headers(scope, receive), receive)
            except ClientDisconnectedError:
                return None
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        record = instrumentation.begin(scope["method"], scope["path"], headers)
        try:
            response = await self._respond(*request_with_headers(scope, receive), receive)
        except ClientDisconnectedError:
            await instrumentation.end(record, 499)  # nginx's "client closed request"
            return None
        except HTTPException as exc:
            await instrumentation.end(record, exc.status_code)
            raise
        response.headers.update(await instrumentation.end(record, response.status_code))
        return response

    async def _respond(
        self, request: Request, headers: RequestHeaders, receive: Receive
    ) -> Response | Answer:
        method = request.method
        if method == "POST" and self._plain_post:
            media_type = self._json_post_type(headers)
            if media_type is not None:
                return await self._json_post(request, headers, receive, media_type)
        accept = ", ".join(headers.getlist("accept")) or None
        media_type = media.APPLICATION_JSON  # used for errors found before negotiation
        try:
            if method not in ("GET", "POST"):
                raise TransportError(
                    405,
                    f"Method {method} is not allowed: use GET or POST.",
                    code="METHOD_NOT_ALLOWED",
                    headers={"Allow": ALLOWED_METHODS},
                )
            # Before anything is read or parsed: a refusal under overload must cost nearly nothing.
            if self.admission is not None and not self.admission.admit():
                raise ServiceUnavailable(
                    "The server is busy: requests are waiting too long for the database. "
                    "Try again.",
                    retry_after=1,
                )
            params: dict[str, str] = {}
            if method == "GET":
                params = parse_query_string(request.scope.get("query_string", b""))
                if self.graphiql and "query" not in params and media.accepts_html(accept):
                    page = HTMLResponse(graphiql_page(self.graphiql, request.scope["path"]))
                    page.headers.add_vary_header("Accept")
                    return page
            if self.auth is not None:
                await self._authenticate(request)
            # A substring test first: most requests never ask for a stream, and parsing their
            # Accept header again would cost every one of them.
            if (
                self.streams
                and accept is not None
                and media.TEXT_EVENT_STREAM in accept
                and media.accepts_event_stream(accept)
            ):
                return await self._event_stream(request, receive, headers, params)
            negotiated = media.negotiate_response_type(accept)
            if negotiated is None:
                raise TransportError(
                    406,
                    "None of the media types in the Accept header can be served: "
                    f"accept {media.GRAPHQL_RESPONSE_JSON} or {media.APPLICATION_JSON}.",
                    code="NOT_ACCEPTABLE",
                )
            media_type = negotiated
            if method == "GET":
                self.csrf.check(method, headers)
                graphql_request = request_from_query_params(params)
            elif self.uploads is not None and is_multipart(headers):
                async with self.uploads.read(request, receive) as (posted, request):
                    if isinstance(posted, list):
                        return await self._run_batch(request, receive, posted, media_type)
                    return await self._run(request, receive, posted, media_type)
            else:
                posted, request = await self._read_post(request, receive, headers)
                if isinstance(posted, list):
                    return await self._run_batch(request, receive, posted, media_type)
                graphql_request = posted
            return await self._run(request, receive, graphql_request, media_type)
        except (ClientDisconnectedError, HTTPException):
            raise
        except Exception as exc:
            return _error_answer(exc, media_type)

    async def _json_post(
        self, request: Request, headers: RequestHeaders, receive: Receive, media_type: str
    ) -> Answer:
        """A POST whose headers :meth:`_json_post_type` passed: the rest of ``_respond``'s way."""
        try:
            csrf = self.csrf
            first = headers.first_values
            if csrf.mode == "always" or (
                csrf.mode == "auto" and (b"cookie" in first or b"authorization" in first)
            ):
                csrf.check("POST", headers)
            length = first.get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body_size):
                check_content_length(headers, self.max_body_size)  # raises its 400 or 413
            body = await read_body(receive, self.max_body_size, self.body_timeout)
            posted = decode_post_body(body, self.max_batch_size)
            request._receive = _replay(body, receive)
            if isinstance(posted, list):
                return await self._run_batch(request, receive, posted, media_type)
            return await self._run(request, receive, posted, media_type)
        except (ClientDisconnectedError, HTTPException):
            raise
        except Exception as exc:
            return _error_answer(exc, media_type)

    def _json_post_type(self, headers: RequestHeaders) -> str | None:
        """The response media type of a plain JSON POST, else ``None``: ``_respond`` decides.

        Plain: no admission, authenticator or repeated header, nothing asked as a stream, an
        acceptable ``Accept`` and a JSON ``Content-Type``. The answer depends on those two
        header values only, so it is remembered for each pair seen (the common few).
        """
        first = headers.first_values
        if not first:
            return None
        key = (first.get(b"accept"), first.get(b"content-type"))
        decided = self._json_post_types.get(key, _UNDECIDED)
        if decided is _UNDECIDED:
            decided = self._decide_json_post_type(*key)
            if len(self._json_post_types) < _MAX_REMEMBERED_TYPES:
                self._json_post_types[key] = decided
        return decided  # type: ignore[return-value]

    def _decide_json_post_type(
        self, accept: bytes | None, content_type: bytes | None
    ) -> str | None:
        """What ``_respond`` would negotiate for a POST with these headers, when it runs it."""
        accepted = accept.decode("latin-1") or None if accept is not None else None
        if (
            self.streams
            and accepted is not None
            and media.TEXT_EVENT_STREAM in accepted
            and media.accepts_event_stream(accepted)
        ):
            return None
        if content_type is None or b"multipart" in content_type.lower():
            return None
        if media.check_request_content_type(content_type.decode("latin-1")) is not None:
            return None
        return media.negotiate_response_type(accepted)

    async def _event_stream(
        self,
        request: Request,
        receive: Receive,
        headers: RequestHeaders,
        params: dict[str, str],
    ) -> Response:
        """Serve an operation as Server-Sent Events (see :mod:`fraiseql.asgi.sse`)."""
        if request.method == "GET":
            self.csrf.check("GET", headers)
            graphql_request = request_from_query_params(params)
        else:
            posted, request = await self._read_post(request, receive, headers)
            if isinstance(posted, list):
                raise TransportError(
                    400, "A batch cannot be answered as an event stream.", code="BAD_REQUEST"
                )
            graphql_request = posted
        context = {**await self._user_context(request), "request": request}
        executor = cast(SubscriptionExecutor, self.executor)
        caller = context.get("auth") if self.auth is not None else None
        valid_until = caller.valid_until if isinstance(caller, AuthInfo) else None
        return event_stream_response(
            event_stream(
                executor, graphql_request, context, method=request.method, valid_until=valid_until
            )
        )

    async def _read_post(
        self, request: Request, receive: Receive, headers: RequestHeaders
    ) -> tuple[GraphQLRequest | list[GraphQLRequest], Request]:
        problem = media.check_request_content_type(headers.get("content-type"))
        if problem is not None:
            raise TransportError(415, problem, code="UNSUPPORTED_MEDIA_TYPE")
        # Every accepted Content-Type is JSON, which passes; the rule is checked all the same so
        # that it still holds if a simple type is ever accepted.
        self.csrf.check("POST", headers)
        check_content_length(headers, self.max_body_size)
        body = await read_body(receive, self.max_body_size, self.body_timeout)
        posted = decode_post_body(body, self.max_batch_size)
        # Hand the context getter a request whose body() still works: replay what was read
        # (the request's own receive, as a new Request over the same scope would have it).
        request._receive = _replay(body, receive)
        return posted, request

    async def _run(
        self,
        request: Request,
        receive: Receive,
        graphql_request: GraphQLRequest,
        media_type: str,
    ) -> Answer:
        prepared = self.executor.prepare(graphql_request)
        _check_operation_type(prepared, request.method)
        context = {**await self._user_context(request), "request": request}
        result = await cancel_on_disconnect(
            self.executor.execute(prepared, graphql_request, context), receive
        )
        return _response(result.body, 200, media_type, result.headers)

    async def _run_batch(
        self,
        request: Request,
        receive: Receive,
        graphql_requests: list[GraphQLRequest],
        media_type: str,
    ) -> Answer:
        """Run a batch in order; each member takes the single-request path with its own context."""
        if IDEMPOTENCY_HEADER in request.headers and getattr(self.executor, "idempotency", None):
            raise TransportError(
                400,
                f"An {IDEMPOTENCY_HEADER} names one operation: send it without batching.",
                code="INVALID_IDEMPOTENCY_KEY",
            )
        user_context = await self._user_context(request)

        async def run_one(graphql_request: GraphQLRequest) -> bytes:
            prepared = self.executor.prepare(graphql_request)
            _check_operation_type(prepared, request.method)
            context = {**user_context, "request": request}
            result = await self.executor.execute(prepared, graphql_request, context)
            return result.body

        body = await cancel_on_disconnect(run_batch(graphql_requests, run_one), receive)
        return _response(body, 200, media_type)

    async def _authenticate(self, request: Request) -> None:
        """Keep the caller in the scope, or refuse the request (401/403)."""
        assert self.auth is not None
        try:
            request.scope[AUTH_SCOPE_KEY] = await self.auth.authenticate(request)
        except AuthError as error:
            raise TransportError(
                error.status,
                error.description,
                code=error.code,
                headers={"WWW-Authenticate": error.www_authenticate()},
            ) from None

    async def _user_context(self, request: Request) -> Mapping[str, Any]:
        context: Mapping[str, Any] = {}
        if self.context_getter is not None:
            value = self.context_getter(request)
            context = await value if inspect.isawaitable(value) else value
        if self.auth is not None:
            return {**context, "auth": request.scope[AUTH_SCOPE_KEY]}
        return context


def _check_operation_type(prepared: PreparedOperation, method: str) -> None:
    """Refuse mutations over GET (405, before anything runs) and subscriptions over HTTP."""
    if prepared.operation_type == "mutation" and method == "GET":
        raise TransportError(
            405,
            "Mutations cannot be sent with GET: use POST.",
            code="METHOD_NOT_ALLOWED",
            headers={"Allow": "POST"},
        )
    if prepared.operation_type == "subscription":
        message = (
            "Subscriptions are not served as one HTTP response: use the WebSocket endpoint "
            "(graphql-transport-ws) or ask for Server-Sent Events (Accept: text/event-stream)."
        )
        raise RequestError(
            [{"message": message, "extensions": {"code": "OPERATION_NOT_SUPPORTED"}}]
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then defers to the real one."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _response(
    body: bytes, status: int, media_type: str, headers: Mapping[str, str] | None = None
) -> Answer:
    return Answer(body, status, media_type, headers)


_UNDECIDED = object()
_MAX_REMEMBERED_TYPES = 256


def _error_answer(exc: Exception, media_type: str) -> Answer:
    """The answer to what stopped a request: a refusal, request errors, a 503 or a masked 500."""
    if isinstance(exc, TransportError):
        hooks.request_refused(exc.code, exc.message)
        return _response(exc.body(), exc.status, media_type, exc.headers)
    if isinstance(exc, IdempotencyKeyError):  # 400, 409 or 422 under both media types
        hooks.request_errors(exc.errors)
        return _response(request_errors_body(exc.errors), exc.status, media_type)
    if isinstance(exc, RequestError):
        hooks.request_errors(exc.errors)
        return _request_error_response(exc.errors, media_type)
    if isinstance(exc, ServiceUnavailable):
        hooks.request_refused("SERVICE_UNAVAILABLE", exc.message)
        return _response(
            error_body(exc.message, "SERVICE_UNAVAILABLE"),
            503,
            media_type,
            {"Retry-After": str(exc.retry_after)},
        )
    return _internal_error_response(media_type, exc)


def _request_error_response(errors: list[dict[str, Any]], media_type: str) -> Answer:
    """A GraphQL request error: 200 under application/json, 400 under graphql-response+json.

    GraphQL-over-HTTP draft, "Status Codes": with application/json a well-formed request gets
    200 even for parse, validation, operation-selection and variable-coercion errors; with
    application/graphql-response+json a response without ``data`` is a 4xx, 400 for these.
    """
    status = 400 if media_type == media.GRAPHQL_RESPONSE_JSON else 200
    return _response(request_errors_body(errors), status, media_type)


def _internal_error_response(media_type: str, error: Exception) -> Answer:
    """A masked 500: the details go to the log under an error id, the client gets the id only."""
    error_id = uuid.uuid4().hex
    hooks.internal_error(error_id, error)
    logger.exception("Unhandled error while serving a GraphQL request (errorId=%s)", error_id)
    body = error_body("Internal server error", INTERNAL_SERVER_ERROR, errorId=error_id)
    return _response(body, 500, media_type)
