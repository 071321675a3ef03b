"""JWTAuth: what it accepts, what it refuses, and that no token text ever leaks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from starlette.requests import HTTPConnection

from fraiseql import AuthError, AuthInfo, JWTAuth, SessionSettings
from fraiseql.security.auth import AUTH_SCOPE_KEY, auth_info, bearer_token, session_with_auth
from fraiseql.security.claims import ClaimsError
from fraiseql.subscriptions.connection import CONNECTION_PARAMS_KEY

SECRET = "s" * 64
ISSUER = "https://issuer.test/"
AUDIENCE = "fraiseql-tests"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def pem(private_key: Any) -> bytes:
    return bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "user-1", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Any, algorithm: str, **extra: Any) -> str:
    return jwt.encode(claims(**extra), key, algorithm=algorithm)


def auth(**options: Any) -> JWTAuth:
    defaults: dict[str, Any] = {
        "algorithms": ["RS256"],
        "public_key": pem(RSA_KEY),
        "issuer": ISSUER,
        "audience": AUDIENCE,
    }
    defaults.update(options)
    return JWTAuth(**defaults)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token() -> str:
    header = b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    return f"{header}.{b64(orjson.dumps(claims()))}."


def connection(
    headers: dict[str, str] | None = None,
    *,
    websocket: bool = False,
    params: dict[str, Any] | None = None,
) -> HTTPConnection:
    scope: dict[str, Any] = {
        "type": "websocket" if websocket else "http",
        "path": "/graphql",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    if params is not None:
        scope[CONNECTION_PARAMS_KEY] = params
    return HTTPConnection(scope)


async def refused(authenticator: JWTAuth, token: str | None) -> AuthError:
    with pytest.raises(AuthError) as caught:
        await authenticator.verify(token)
    return caught.value


# --- accepted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [(RSA_KEY, "RS256"), (RSA_KEY, "PS256"), (EC_KEY, "ES256"), (ED_KEY, "EdDSA")],
)
async def test_public_key_algorithms(key: Any, algorithm: str) -> None:
    verifier = auth(algorithms=[algorithm], public_key=pem(key))
    info = await verifier.verify(sign(key, algorithm, org_id="t1"))
    assert info.subject == "user-1"
    assert info.claims["org_id"] == "t1"
    assert not info.anonymous and not info.expired()


async def test_public_key_object_and_hs256_secret() -> None:
    info = await auth(algorithms=["ES256"], public_key=EC_KEY.public_key()).verify(
        sign(EC_KEY, "ES256")
    )
    assert info.subject == "user-1"
    hs = auth(algorithms=["HS256"], public_key=None, secret=SECRET)
    assert (await hs.verify(sign(SECRET, "HS256"))).subject == "user-1"


async def test_claims_map_to_settings_and_roles_to_database_roles() -> None:
    verifier = auth(
        claims={
            "app.tenant_id": "org_id",
            "app.user_id": "sub",
            "app.plan": ("https://example.com/claims", "plan"),
            "app.flags": "flags",
            "app.missing": "nope",
        },
        roles={"member": "app_member", "admin": "app_admin"},
    )
    token = sign(
        RSA_KEY,
        "RS256",
        org_id=42,
        role="member",
        flags=["a", "b"],
        **{"https://example.com/claims": {"plan": "pro"}},
    )
    info = await verifier.verify(token)
    assert info.role == "app_member"
    assert dict(info.settings) == {
        "app.tenant_id": "42",
        "app.user_id": "user-1",
        "app.plan": "pro",
        "app.flags": '["a","b"]',
        "app.missing": None,
    }
    with pytest.raises(TypeError):
        info.claims["sub"] = "someone else"  # type: ignore[index]


async def test_role_lists_pick_the_first_allowed_role_in_mapping_order() -> None:
    verifier = auth(
        role_claim=("realm_access", "roles"),
        roles={"admin": "app_admin", "member": "app_member"},
    )
    token = sign(RSA_KEY, "RS256", realm_access={"roles": ["offline", "member"]})
    assert (await verifier.verify(token)).role == "app_member"
    token = sign(RSA_KEY, "RS256", realm_access={"roles": ["member", "admin"]})
    assert (await verifier.verify(token)).role == "app_admin"


async def test_unknown_or_missing_role_is_forbidden_never_passed_through() -> None:
    verifier = auth(roles={"member": "app_member"})
    for role in ("postgres", "app_member", ["superuser"], 7):
        error = await refused(verifier, sign(RSA_KEY, "RS256", role=role))
        assert (error.status, error.error, error.code) == (403, "insufficient_scope", "FORBIDDEN")
    error = await refused(verifier, sign(RSA_KEY, "RS256"))
    assert error.status == 403
    defaulted = auth(roles={"member": "app_member"}, default_role="member")
    assert (await defaulted.verify(sign(RSA_KEY, "RS256"))).role == "app_member"
    assert (await refused(defaulted, sign(RSA_KEY, "RS256", role="admin"))).status == 403


async def test_without_roles_the_token_does_not_choose_the_role() -> None:
    info = await auth().verify(sign(RSA_KEY, "RS256", role="postgres"))
    assert info.role is None


async def test_anonymous_role_without_a_token() -> None:
    error = await refused(auth(), None)
    assert (error.status, error.error) == (401, None)
    assert error.www_authenticate() == "Bearer"
    verifier = auth(anonymous_role="app_anonymous", claims={"app.tenant_id": "org_id"})
    info = await verifier.verify(None)
    assert info.anonymous and info.role == "app_anonymous" and info.subject is None
    assert dict(info.settings) == {"app.tenant_id": None}
    # An invalid token is still refused: anonymous is for no token only.
    assert (await refused(verifier, "not-a-token")).status == 401


async def test_leeway_accepts_small_clock_skew() -> None:
    now = int(time.time())
    verifier = auth()  # 30 s by default
    assert await verifier.verify(sign(RSA_KEY, "RS256", exp=now - 10))
    assert await verifier.verify(sign(RSA_KEY, "RS256", nbf=now + 10))
    info = await verifier.verify(sign(RSA_KEY, "RS256", exp=now + 5))
    assert info.valid_until == now + 5 + 30


# --- refused -------------------------------------------------------------------------------


def refusals() -> list[tuple[str, JWTAuth, str, str]]:
    now = int(time.time())
    rs = auth()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # The classic confusion: HS256 with the RSA public key's PEM as the HMAC secret.
    # PyJWT refuses to sign with a PEM as secret, so build the signature by hand.
    header = b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    body = b64(orjson.dumps(claims()))
    mac = hmac.new(pem(RSA_KEY), f"{header}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{body}.{b64(mac)}"
    return [
        ("alg none", rs, unsigned_token(), "algorithm is not allowed"),
        ("hs256 with the public key as secret", rs, confused, "algorithm is not allowed"),
        ("wrong alg", rs, sign(EC_KEY, "ES256"), "algorithm is not allowed"),
        ("other key", rs, sign(other, "RS256"), "signature is invalid"),
        ("expired", rs, sign(RSA_KEY, "RS256", exp=now - 120), "has expired"),
        ("not yet valid", rs, sign(RSA_KEY, "RS256", nbf=now + 120), "not valid yet"),
        ("wrong audience", rs, sign(RSA_KEY, "RS256", aud="other"), "audience"),
        ("no audience", rs, sign(RSA_KEY, "RS256", aud=None), "'aud' claim"),
        ("wrong issuer", rs, sign(RSA_KEY, "RS256", iss="https://evil/"), "issuer"),
        ("no exp", rs, sign(RSA_KEY, "RS256", exp=None), "'exp' claim"),
        (
            "required claim",
            auth(required_claims=("exp", "org_id")),
            sign(RSA_KEY, "RS256"),
            "'org_id' claim",
        ),
        ("malformed", rs, "abc.def.ghi", "malformed"),
        ("garbage", rs, "not-a-token", "malformed"),
        ("tampered", rs, sign(RSA_KEY, "RS256")[:-4] + "AAAA", "signature is invalid"),
        ("too large", auth(max_token_size=100), sign(RSA_KEY, "RS256"), "too large"),
        (
            "hs256 wrong secret",
            auth(algorithms=["HS256"], public_key=None, secret=SECRET),
            sign("t" * 64, "HS256"),
            "signature is invalid",
        ),
    ]


@pytest.mark.parametrize("case", range(len(refusals())))
async def test_refused_tokens(case: int) -> None:
    _, verifier, token, fragment = refusals()[case]
    if fragment == "too large":
        with pytest.raises(AuthError) as caught:
            await verifier.authenticate(connection({"Authorization": f"Bearer {token}"}))
        error = caught.value
    else:
        error = await refused(verifier, token)
    assert (error.status, error.error, error.code) == (401, "invalid_token", "UNAUTHENTICATED")
    assert fragment in error.description
    challenge = error.www_authenticate()
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert token not in challenge and token not in error.description


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="explicit list"):
        JWTAuth(algorithms=[], secret=SECRET)
    with pytest.raises(ValueError, match="exactly one"):
        JWTAuth(algorithms=["RS256"])
    with pytest.raises(ValueError, match="exactly one"):
        JWTAuth(algorithms=["HS256"], secret=SECRET, public_key=pem(RSA_KEY))
    with pytest.raises(ValueError, match="HS256, HS384 or HS512 only"):
        JWTAuth(algorithms=["HS256", "RS256"], secret=SECRET)
    with pytest.raises(ValueError, match="cannot be verified with public keys"):
        JWTAuth(algorithms=["HS256"], public_key=pem(RSA_KEY))
    with pytest.raises(ValueError, match="cannot be verified with public keys"):
        JWTAuth(algorithms=["none"], jwks_url="https://idp.test/jwks")
    with pytest.raises(ValueError, match="cannot verify"):
        JWTAuth(algorithms=["ES256"], public_key=pem(RSA_KEY))
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JWTAuth(algorithms=["HS256"], secret="short")
    with pytest.raises(ValueError, match="at least 64 bytes"):
        JWTAuth(algorithms=["HS256", "HS512"], secret="x" * 40)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="2048"):
        JWTAuth(algorithms=["RS256"], public_key=pem(small))
    with pytest.raises(ValueError, match="a dot"):
        JWTAuth(algorithms=["HS256"], secret=SECRET, claims={"tenant": "org_id"})
    with pytest.raises(ValueError, match="default_role"):
        JWTAuth(algorithms=["HS256"], secret=SECRET, roles={"a": "b"}, default_role="c")
    with pytest.raises(ValueError, match="http"):
        JWTAuth(algorithms=["RS256"], jwks_url="file:///etc/passwd")


# --- where the token comes from ------------------------------------------------------------


def test_bearer_token_sources() -> None:
    assert bearer_token(connection({"Authorization": "Bearer abc"})) == "abc"
    assert bearer_token(connection({"Authorization": "bearer   abc "})) == "abc"
    assert bearer_token(connection({"Authorization": "Basic dXNlcjpwdw=="})) is None
    assert bearer_token(connection({})) is None
    cookie = connection({"Cookie": "session=xyz"})
    assert bearer_token(cookie) is None
    assert bearer_token(cookie, cookie_name="session") == "xyz"
    both = connection({"Cookie": "session=xyz", "Authorization": "Bearer abc"})
    assert bearer_token(both, cookie_name="session") == "abc"
    for bad in ("Bearer", "Bearer a b"):
        with pytest.raises(AuthError) as caught:
            bearer_token(connection({"Authorization": bad}))
        assert (caught.value.status, caught.value.error) == (400, "invalid_request")
    two = HTTPConnection(
        {
            "type": "http",
            "headers": [(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")],
        }
    )
    with pytest.raises(AuthError):
        bearer_token(two)


def test_websocket_token_from_init_payload_then_header() -> None:
    header = {"Authorization": "Bearer from-header"}
    assert bearer_token(connection(header, websocket=True, params={})) == "from-header"
    for key in ("authorization", "Authorization"):
        ws = connection(header, websocket=True, params={key: "Bearer from-init"})
        assert bearer_token(ws) == "from-init"
    for bad in ("from-init", 42, "Bearer "):
        with pytest.raises(AuthError):
            bearer_token(connection(websocket=True, params={"authorization": bad}))
    # Over plain HTTP the params do not count.
    assert bearer_token(connection(params={"authorization": "Bearer x"})) is None


def test_auth_info_reads_the_scope() -> None:
    plain = connection()
    assert auth_info(plain) is None
    info = AuthInfo("me")
    plain.scope[AUTH_SCOPE_KEY] = info
    assert auth_info(plain) is info


# --- into the session settings -------------------------------------------------------------


def test_session_settings_role_from_and_claims() -> None:
    info = AuthInfo("u", role="app_admin", settings={"app.tenant_id": "t1"})
    session = session_with_auth(SessionSettings(role="app_user", statement_timeout_ms=1000))
    assert session_with_auth(session) is session
    assert session.settings_for({"auth": info}) == [
        ("role", "app_admin"),
        ("statement_timeout", "1000"),
        ("app.tenant_id", "t1"),
    ]
    # No role from the token: the static role applies; no caller: no claims.
    assert session.settings_for({"auth": AuthInfo("u")}) == [
        ("role", "app_user"),
        ("statement_timeout", "1000"),
    ]
    assert session.settings_for({}) == [("role", "app_user"), ("statement_timeout", "1000")]
    # The app's claims getter adds settings and may read the caller, but not override it.
    extra = session_with_auth(
        SessionSettings(claims=lambda ctx: {"app.user_id": ctx["auth"].subject})
    )
    assert extra.settings_for({"auth": info}) == [
        ("role", "app_admin"),
        ("app.tenant_id", "t1"),
        ("app.user_id", "u"),
    ]
    clash = session_with_auth(SessionSettings(claims=lambda ctx: {"app.tenant_id": "forged"}))
    with pytest.raises(ClaimsError, match="both"):
        clash.settings_for({"auth": info})


def test_session_settings_without_role_from_is_unchanged() -> None:
    settings = SessionSettings(claims=lambda ctx: {"app.tenant_id": "t"}, role="r")
    assert settings.settings_for({}) == [("role", "r"), ("app.tenant_id", "t")]
    dynamic = SessionSettings(role="r", role_from=lambda ctx: ctx.get("role"))
    assert dynamic.settings_for({"role": "x"}) == [("role", "x")]
    assert dynamic.settings_for({}) == [("role", "r")]


# --- nothing leaks -------------------------------------------------------------------------


async def test_tokens_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    verifier = auth(roles={"member": "app_member"})
    tokens = [token for _, _, token, _ in refusals()]
    tokens.append(sign(RSA_KEY, "RS256", role="intruder"))
    for token in tokens:
        with pytest.raises(AuthError) as caught:
            await verifier.verify(token)
        assert token not in str(caught.value)
    accepted = sign(RSA_KEY, "RS256", role="member")
    await verifier.verify(accepted)
    assert caplog.records, "the refusals are logged at DEBUG"
    for token in [*tokens, accepted]:
        assert token not in caplog.text
        signature = token.rsplit(".", 1)[-1]
        assert len(signature) < 8 or signature not in caplog.text
