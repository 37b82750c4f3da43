"""Sign-in, refresh and logout. Wrong email and wrong password get the same answer in
about the same time (an unknown email is checked against a dummy hash), and both count
towards the same lockout."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from litestar.exceptions import NotAuthorizedException

from api.sessions import issue_access_token, refuse_disabled
from api.users.schemas import TokensRead
from vigil.constants import LOGIN_FAILURES_KEY, LOGIN_LOCK_KEY, LOGIN_LOCKOUTS_KEY
from vigil.passwords import verify_password
from vigil.queries import sql

REFRESH_PREFIX = "vrt_"
WRONG = "wrong email or password"


class Locked(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins for this email; retry in {retry_after} s")
        self.retry_after = retry_after


def _hash(token: str) -> bytes:
    """Refresh tokens are 256-bit random: a fast hash is enough to keep them unreadable."""
    return hashlib.sha256(token.encode()).digest()


def lockout_seconds(settings, lockouts_before: int) -> int:
    """How long the next lockout lasts: twice the one before, from login_lockout_seconds up to
    login_lockout_max_seconds, so a slow guesser gets fewer tries a day with every lockout."""
    return min(settings.login_lockout_max_seconds,
               settings.login_lockout_seconds * 2 ** min(lockouts_before, 32))


def _email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


async def _unknown_email_lock(redis, email: str) -> int:
    ttl = await redis.ttl(LOGIN_LOCK_KEY + _email_key(email))
    return max(ttl, 0)


async def _unknown_email_failed(redis, settings, email: str) -> int:
    """Count a failure for an email no user has; returns the lockout seconds it started (or 0)."""
    key = _email_key(email)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(LOGIN_FAILURES_KEY + key)
        pipe.expire(LOGIN_FAILURES_KEY + key, settings.login_lockout_seconds)
        pipe.get(LOGIN_LOCKOUTS_KEY + key)
        failures, _, lockouts = await pipe.execute()
    if failures < settings.login_max_failures:
        return 0
    seconds = lockout_seconds(settings, int(lockouts or 0))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(LOGIN_LOCK_KEY + key, 1, ex=seconds)
        pipe.delete(LOGIN_FAILURES_KEY + key)
        # A user's lockout count lasts until a sign-in succeeds; an unknown email's until
        # the longest lockout has passed since its last one.
        pipe.incr(LOGIN_LOCKOUTS_KEY + key)
        pipe.expire(LOGIN_LOCKOUTS_KEY + key, settings.login_lockout_max_seconds + seconds)
        await pipe.execute()
    return seconds


async def _new_session(state, conn, user_id: int) -> TokensRead:
    settings = state.settings
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    cur = await conn.execute(sql("create_session"), {"user_id": user_id, "refresh_hash": _hash(refresh),
                                                     "days": settings.refresh_token_days})
    session_id = (await cur.fetchone())["id"]
    return TokensRead(access_token=issue_access_token(state, settings, user_id, session_id),
                      expires_in=settings.access_token_minutes * 60, refresh_token=refresh)


async def login(state, email: str, password: str) -> TokensRead:
    settings = state.settings
    async with state.pool.connection() as conn:
        user = await (await conn.execute(sql("user_for_login"), {"email": email.strip()})).fetchone()
    if user is None:
        if locked_for := await _unknown_email_lock(state.redis, email):
            raise Locked(locked_for)
    elif user["locked_for"] > 0:
        raise Locked(user["locked_for"])
    ok = await asyncio.to_thread(verify_password, settings, user and user["password_hash"], password)
    if not ok:
        if user is None:
            locked_for = await _unknown_email_failed(state.redis, settings, email)
        else:
            async with state.pool.connection() as conn:
                cur = await conn.execute(sql("login_failed"), {
                    "id": user["id"], "max_failures": settings.login_max_failures,
                    "lockout_seconds": lockout_seconds(settings, user["lockouts"])})
                locked_for = (await cur.fetchone())["locked_for"]
        if locked_for:
            raise Locked(locked_for)
        raise NotAuthorizedException(WRONG)
    refuse_disabled(user["disabled"], user["account_disabled"])
    async with state.pool.connection() as conn:
        await conn.execute(sql("login_succeeded"), {"id": user["id"]})
        await conn.execute(sql("prune_sessions"), {"user_id": user["id"]})
        return await _new_session(state, conn, user["id"])


async def refresh(state, refresh_token: str) -> TokensRead:
    """New tokens for a live session; the refresh token given stops working."""
    settings = state.settings
    new = REFRESH_PREFIX + secrets.token_urlsafe(32)
    old_hash = _hash(refresh_token)
    async with state.pool.connection() as conn:
        row = await (await conn.execute(sql("rotate_session"), {"old_hash": old_hash,
                                                                "new_hash": _hash(new)})).fetchone()
        why = None
        if row is None:
            why = await (await conn.execute(sql("session_refusal"), {"hash": old_hash})).fetchone()
            if why is not None and why["reused"]:
                # A replaced token came back: whoever holds it is not the session's owner, or
                # the owner's copy was stolen. End the session either way.
                await conn.execute(sql("revoke_session"), {"hash": old_hash})
    if row is None:  # raised outside the connection block, which would roll back the revocation
        if why is not None and not why["reused"]:
            refuse_disabled(why["disabled"], why["account_disabled"])
        raise NotAuthorizedException("invalid, used or expired refresh token: sign in again")
    return TokensRead(access_token=issue_access_token(state, settings, row["user_id"], row["id"]),
                      expires_in=settings.access_token_minutes * 60, refresh_token=new)


async def logout(state, refresh_token: str) -> bool:
    """End the session of this refresh token (its access tokens stop working too)."""
    async with state.pool.connection() as conn:
        row = await (await conn.execute(sql("revoke_session"), {"hash": _hash(refresh_token)})).fetchone()
    return row is not None
