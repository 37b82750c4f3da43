"""The operator's door: routes under /api/v1/operator accept only the operator token
(VIGIL_OPERATOR_TOKEN_HASH), compared in constant time. No API key or user can hold it,
and it opens no tenant route (api/sessions.py refuses it there)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from vigil.constants import OPERATOR_TOKEN_PREFIX
from vigil.operator import operator_token_matches


@dataclass(frozen=True, slots=True)
class Operator:
    """The principal of operator routes: not an account's."""


class OperatorAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("operator routes need the operator token: "
                                         "send 'Authorization: Bearer <operator token>'")
        if not token.startswith(OPERATOR_TOKEN_PREFIX):
            raise PermissionDeniedException("operator routes refuse API keys and users: "
                                            "they need the operator token")
        configured = connection.app.state.settings.operator_token_hash
        if not configured:
            raise NotAuthorizedException("operator routes are off: VIGIL_OPERATOR_TOKEN_HASH is not set "
                                         "(`vigil operator-token` makes a token and its hash)")
        if not operator_token_matches(token, configured):
            raise NotAuthorizedException("invalid operator token")
        return AuthenticationResult(user=Operator(), auth="operator")
