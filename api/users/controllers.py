"""POST /api/v1/auth/login, /refresh, /logout: users sign in with an email and a password
and get a short-lived access token plus a refresh token."""

from __future__ import annotations

from litestar import Controller, Request, Response, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody

from api.auth import failed, refuse_failing_address
from api.users import service
from api.users.schemas import LoginCreate, RefreshCreate, TokensRead
from vigil.signin import SignInUnavailable


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response({"status_code": status, "detail": detail}, status_code=status, headers=headers)


async def _answer(request: Request, call, *args) -> Response:
    """Run a sign-in call. A wrong password or token counts against the client address's
    failed-authentication limit, and an address past it is refused before anything is
    checked: a guesser spreading tries over many emails meets that limit, one email's
    lockout meets a guesser trying many passwords."""
    await refuse_failing_address(request)
    try:
        return Response(await call(*args), status_code=200)
    except NotAuthorizedException as exc:
        await failed(request, exc)
        raise
    except service.Locked as exc:
        return _problem(429, str(exc), {"Retry-After": str(exc.retry_after)})
    except SignInUnavailable as exc:
        return _problem(503, str(exc))


class AuthController(Controller):
    path = "/auth"
    tags = ["sign-in"]

    @post("/login", operation_id="login", exclude_from_auth=True, status_code=200, security=[])
    async def login(self, request: Request, data: JSONBody[LoginCreate]) -> Response[TokensRead]:
        return await _answer(request, service.login, request.app.state, data.email, data.password)

    @post("/refresh", operation_id="refresh", exclude_from_auth=True, status_code=200, security=[])
    async def refresh(self, request: Request, data: JSONBody[RefreshCreate]) -> Response[TokensRead]:
        return await _answer(request, service.refresh, request.app.state, data.refresh_token)

    @post("/logout", operation_id="logout", exclude_from_auth=True, status_code=204, security=[])
    async def logout(self, request: Request, data: JSONBody[RefreshCreate]) -> None:
        if not await service.logout(request.app.state, data.refresh_token):
            raise NotAuthorizedException("invalid or already revoked refresh token")
