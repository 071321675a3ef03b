"""Login, sign-up and the JWT checks of the SaaS example.

Tokens are signed with the example's Ed25519 key and verified by ``fraiseql.JWTAuth``; a
missing, expired, forged or malformed token gets 401 with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import time

import asyncpg
import jwt
import pytest
from examples.saas.database import demo_password, seed_uuid
from examples.saas.tokens import AUDIENCE, ISSUER, SigningKey

from .conftest import Client, token_for


async def _login(client: Client, organisation: str, email: str, password: str) -> dict:
    response = await client.http.post(
        "/auth/login",
        json={"organisation": organisation, "email": email, "password": password},
    )
    return {"status": response.status_code, "headers": response.headers, "body": response.json()}


async def test_login_issues_a_token_that_graphql_accepts(client: Client) -> None:
    login = await _login(client, "globex", "Dave@Globex.example", demo_password("globex", "dave"))
    assert login["status"] == 200
    body = login["body"]
    assert body["tokenType"] == "Bearer"
    assert body["member"] == {"id": str(seed_uuid("member", "globex", "dave")), "role": "admin"}
    claims = jwt.decode(
        body["token"], client.key.public_key, algorithms=["EdDSA"], audience=AUDIENCE
    )
    assert claims["iss"] == ISSUER
    assert claims["org"] == str(seed_uuid("organisation", "globex"))
    assert claims["exp"] - claims["iat"] == body["expiresIn"]
    assert jwt.get_unverified_header(body["token"])["kid"] == client.key.kid
    response = await client.graphql("{ me { identifier role } }", token=body["token"])
    assert response.json() == {"data": {"me": {"identifier": "dave", "role": "ADMIN"}}}


@pytest.mark.parametrize(
    ("organisation", "email", "password"),
    [
        ("acme", "bob@acme.example", "wrong password"),
        ("acme", "nobody@acme.example", "acme-bob-demo"),
        ("globex", "bob@acme.example", "acme-bob-demo"),  # another organisation's member
        ("no-such-org", "bob@acme.example", "acme-bob-demo"),
    ],
)
async def test_bad_credentials_get_one_answer(
    client: Client, organisation: str, email: str, password: str
) -> None:
    login = await _login(client, organisation, email, password)
    assert login["status"] == 401
    assert login["headers"]["www-authenticate"].startswith("Bearer")
    assert login["body"]["error"] == "invalid_credentials"
    assert password not in str(login["body"])


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"organisation": "acme"}',
        b'{"organisation": 1, "email": "a", "password": "b"}',
    ],
)
async def test_malformed_logins_are_400(client: Client, body: bytes) -> None:
    response = await client.http.post(
        "/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_an_expired_token_is_refused_with_a_challenge(client: Client) -> None:
    token = token_for(client.key, "acme", "bob", now=time.time() - 7200, ttl=600)
    response = await client.graphql("{ me { identifier } }", token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="the token has expired"'
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda key: token_for(SigningKey.generate(), "acme", "bob"), id="other-key"),
        pytest.param(
            lambda key: jwt.encode(
                {"sub": "x", "org": "y", "role": "owner", "exp": time.time() + 60,
                 "iss": ISSUER, "aud": AUDIENCE},
                "s" * 32, algorithm="HS256",
            ),
            id="hs256",
        ),
        pytest.param(lambda key: token_for(key, "acme", "bob")[:-4] + "AAAA", id="tampered"),
        pytest.param(lambda key: "not.a.token", id="garbage"),
    ],
)  # fmt: skip
async def test_forged_tokens_are_refused(client: Client, make: object) -> None:
    token = make(client.key)  # type: ignore[operator]
    response = await client.graphql("{ me { identifier } }", token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_no_token_is_401(client: Client) -> None:
    response = await client.graphql("{ projects { id } }")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_signup_creates_an_organisation_and_its_owner(client: Client, saas_db: str) -> None:
    password = "a long enough password"
    response = await client.http.post(
        "/auth/signup",
        json={
            "organisation": {"identifier": "hooli", "name": "Hooli"},
            "member": {"identifier": "gavin", "name": "Gavin", "email": "gavin@hooli.example"},
            "password": password,
        },
    )
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    data = (
        await client.graphql("{ me { role } organisations { identifier } }", token=token)
    ).json()
    assert data == {"data": {"me": {"role": "OWNER"}, "organisations": [{"identifier": "hooli"}]}}
    login = await _login(client, "hooli", "gavin@hooli.example", password)
    assert login["status"] == 200
    connection = await asyncpg.connect(saas_db)
    try:
        stored = await connection.fetchval(
            "SELECT password_hash FROM tb_member WHERE email = 'gavin@hooli.example'"
        )
    finally:
        await connection.close()
    assert stored.startswith("scrypt$16384$8$1$")
    assert password not in stored


async def test_signup_refusals(client: Client) -> None:
    taken = await client.http.post(
        "/auth/signup",
        json={
            "organisation": {"identifier": "acme", "name": "Another Acme"},
            "member": {"identifier": "x", "name": "X", "email": "x@x.example"},
            "password": "long enough password",
        },
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "identifier"
    weak = await client.http.post(
        "/auth/signup",
        json={
            "organisation": {"identifier": "newco", "name": "NewCo"},
            "member": {"identifier": "x", "name": "X", "email": "x@x.example"},
            "password": "short",
        },
    )
    assert weak.status_code == 400
    assert weak.json()["error"] == "invalid_password"
    bad_slug = await client.http.post(
        "/auth/signup",
        json={
            "organisation": {"identifier": "Not A Slug", "name": "NewCo"},
            "member": {"identifier": "x", "name": "X", "email": "x@x.example"},
            "password": "long enough password",
        },
    )
    assert bad_slug.status_code == 400
    assert bad_slug.json()["errors"][0]["field"] == "identifier"
