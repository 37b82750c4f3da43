"""Access tokens of signed-in users: short-lived JWTs (Litestar's ``Token``, HS256) that
name the user and their session. Every request checks the session is live and the user
and account enabled, so logout and a disabled account take effect at once."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.security.jwt import Token

from api.auth import Principal
from vigil.constants import OPERATOR_TOKEN_PREFIX
from vigil.queries import sql
from vigil.settings import Settings
from vigil.signin import SignInUnavailable, jwt_secret

ALGORITHM = "HS256"
ISSUER = "vigil"
AUDIENCE = "vigil-api"
MAX_TOKEN_LENGTH = 4096  # ours are about 300 characters


def signing_key(state) -> str:
    """The JWT key, resolved once per app (raises SignInUnavailable)."""
    key = getattr(state, "jwt_key", None)
    if key is None:
        key = jwt_secret(state.settings)
        state.jwt_key = key
    return key


def issue_access_token(state, settings: Settings, user_id: int, session_id: int) -> str:
    token = Token(exp=datetime.now(UTC) + timedelta(minutes=settings.access_token_minutes),
                  sub=str(user_id), iss=ISSUER, aud=AUDIENCE, jti=secrets.token_hex(8),
                  extras={"sid": session_id})
    return token.encode(signing_key(state), ALGORITHM)


def _claims(state, encoded: str) -> tuple[int, int]:
    """(user id, session id) of a valid, unexpired access token."""
    try:
        key = signing_key(state)
    except SignInUnavailable as exc:
        raise NotAuthorizedException(str(exc)) from None
    try:
        token = Token.decode(encoded, key, ALGORITHM, audience=AUDIENCE, issuer=ISSUER,
                             require_claims=["exp", "sub", "iat"])
        return int(token.sub), int(token.extras["sid"])
    except (NotAuthorizedException, KeyError, TypeError, ValueError):
        raise NotAuthorizedException("invalid or expired access token: sign in again or refresh it") from None


def refuse_disabled(user_disabled: bool, account_disabled: bool) -> None:
    if account_disabled:
        raise PermissionDeniedException("this account is disabled by the operator")
    if user_disabled:
        raise PermissionDeniedException("this user is disabled")


async def user_principal(connection: ASGIConnection, encoded: str) -> Principal:
    """The principal of a bearer token that is not an API key: a user's access token."""
    if encoded.startswith(OPERATOR_TOKEN_PREFIX):
        raise NotAuthorizedException("the operator token only opens /api/v1/operator routes")
    if encoded.count(".") != 2 or len(encoded) > MAX_TOKEN_LENGTH:
        raise NotAuthorizedException("malformed API key or access token")
    state = connection.app.state
    user_id, session_id = _claims(state, encoded)
    async with state.pool.connection() as conn:
        cur = await conn.execute(sql("session_principal"), {"session_id": session_id, "user_id": user_id})
        row = await cur.fetchone()
    if row is None:
        raise NotAuthorizedException("this session has ended (logged out or expired): sign in again")
    refuse_disabled(row["disabled"], row["account_disabled"])
    # The user's role is its scope: the API router's scope guard (api/scopes.py) applies it.
    return Principal(account_id=row["account_id"], scope=row["role"], key_id=None, key_prefix=None,
                     user_id=user_id)
