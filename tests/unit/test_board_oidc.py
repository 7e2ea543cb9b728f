"""Signing in to the board through a Trust's identity provider (OIDC authorization code flow),
against a small identity provider of the test's own served on 127.0.0.1: the Trust it vouches
for is the Trust whose teams the user sees, and a callback the board did not start signs nobody in."""

import base64
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from contracts import Trust
from services.board.signin import OidcSettings, Users
from services.board.web import WebSettings, create_app
from tests.board_fakes import NOW, BelfastIds, FakeReader, belfast_board
from tests.browser import serving
from tests.fakes import FixedClock

CLIENT_ID, CLIENT_SECRET = "carepath-board", "the-board's-client-secret"


class IdentityProvider:
    """Just enough of an OpenID provider: discovery, a JWKS, and a token endpoint that answers a
    code the test has issued with an RS256 ID token of the claims the test chose."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.codes: dict[str, dict] = {}
        self.userinfo: dict[str, dict] = {}  # by code, what the userinfo endpoint adds
        self.issuer = ""
        self.app = Starlette(routes=[Route("/.well-known/openid-configuration", self.discovery),
                                     Route("/jwks", self.jwks), Route("/token", self.token, methods=["POST"]),
                                     Route("/userinfo", self.user)])

    async def discovery(self, request: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                             "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                             "userinfo_endpoint": f"{self.issuer}/userinfo",
                             "id_token_signing_alg_values_supported": ["RS256"], "response_types_supported": ["code"]})

    async def jwks(self, request: Request) -> JSONResponse:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def token(self, request: Request) -> JSONResponse:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = await request.form()
        code = str(form.get("code"))
        claims = self.codes.pop(code, None)
        if request.headers.get("authorization") != expected or claims is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())  # authlib checks the ID token against the real clock
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"},
                              {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **claims}, self.key)
        return JSONResponse({"access_token": f"token-for-{code}", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

    async def user(self, request: Request) -> JSONResponse:
        code = request.headers.get("authorization", "").removeprefix("Bearer token-for-")
        return JSONResponse(self.userinfo.get(code, {}))


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    with serving(provider.app) as url:
        provider.issuer = url
        yield provider


def board(idp: IdentityProvider, trust: Trust | None = None) -> TestClient:
    oidc = OidcSettings(f"{idp.issuer}/.well-known/openid-configuration", CLIENT_ID, CLIENT_SECRET, trust=trust)
    reader = FakeReader({"htcr:belfast": belfast_board(BelfastIds())})
    app = create_app(reader, Users(None), WebSettings("an-oidc-test-secret-of-40-characters!!!", https_only=False, oidc=oidc),
                     FixedClock(NOW))
    return TestClient(app, follow_redirects=False)


def start(client: TestClient, goto: str = "/") -> dict[str, str]:
    """Follow the board to the identity provider; what the board asked it for."""
    response = client.get("/oidc/login", params={"next": goto})
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    return {key: values[0] for key, values in parse_qs(location.query).items()} | {"path": location.path}


def test_the_identity_providers_user_signs_in_and_sees_their_trusts_board(idp):
    """A user the identity provider vouches for as Belfast's lands where they were going and sees Belfast's board, not Northern's."""
    client = board(idp)
    asked = start(client, "/teams/htcr:belfast/fidelity")
    assert asked["path"] == "/authorize" and asked["client_id"] == CLIENT_ID and asked["response_type"] == "code"
    assert asked["redirect_uri"] == "http://testserver/oidc/callback"
    idp.codes["code-1"] = {"sub": "u-1", "preferred_username": "alice", "carepath_trust": "belfast", "nonce": asked["nonce"]}
    response = client.get("/oidc/callback", params={"code": "code-1", "state": asked["state"]})
    assert (response.status_code, response.headers["location"]) == (303, "/teams/htcr:belfast/fidelity")
    assert client.get("/teams/htcr:belfast").status_code == 200
    assert client.get("/teams/htcr:northern").status_code == 403


def test_a_user_whose_account_names_no_trust_signs_in_to_nothing(idp):
    """An identity provider's user with no Trust claim is refused with 403, and has no session."""
    client = board(idp)
    asked = start(client)
    idp.codes["code-2"] = {"sub": "u-2", "preferred_username": "bob", "nonce": asked["nonce"]}
    response = client.get("/oidc/callback", params={"code": "code-2", "state": asked["state"]})
    assert response.status_code == 403 and "which Trust" in response.text
    assert client.get("/teams/htcr:belfast").status_code == 303


def test_a_trust_named_only_by_the_userinfo_endpoint_is_taken_from_there(idp):
    """When the ID token does not name the Trust, the board asks the userinfo endpoint, and takes the Trust from it."""
    client = board(idp)
    asked = start(client)
    idp.codes["code-5"] = {"sub": "u-5", "preferred_username": "sam", "nonce": asked["nonce"]}
    idp.userinfo["code-5"] = {"sub": "u-5", "carepath_trust": "belfast"}
    assert client.get("/oidc/callback", params={"code": "code-5", "state": asked["state"]}).status_code == 303
    assert client.get("/teams/htcr:belfast").status_code == 200


def test_a_trusts_own_identity_provider_makes_its_users_that_trusts(idp):
    """Through a Trust-specific identity provider, a user is that Trust's whatever their claims say."""
    client = board(idp, trust=Trust.NORTHERN)
    asked = start(client)
    idp.codes["code-3"] = {"sub": "u-3", "preferred_username": "nora", "carepath_trust": "belfast", "nonce": asked["nonce"]}
    assert client.get("/oidc/callback", params={"code": "code-3", "state": asked["state"]}).status_code == 303
    assert client.get("/teams/htcr:northern").status_code == 200
    assert client.get("/teams/htcr:belfast").status_code == 403


def test_a_callback_the_board_did_not_start_signs_nobody_in(idp):
    """A callback whose state the board never issued, or carrying the provider's refusal, answers 400 and signs nobody in."""
    client = board(idp)
    start(client)
    idp.codes["code-4"] = {"sub": "u-4", "preferred_username": "mallory", "carepath_trust": "belfast"}
    assert client.get("/oidc/callback", params={"code": "code-4", "state": "forged"}).status_code == 400
    assert client.get("/oidc/callback", params={"error": "access_denied"}).status_code == 400
    assert client.get("/teams/htcr:belfast").status_code == 303


def test_the_sign_in_page_offers_the_trust_account_and_no_password_form_without_a_users_file(idp):
    """With an identity provider and no users file, the sign-in page offers the Trust account only."""
    html = board(idp).get("/sign-in", params={"next": "/teams/htcr:belfast"}).text
    assert 'href="/oidc/login?next=%2Fteams%2Fhtcr%3Abelfast"' in html
    assert 'name="password"' not in html
