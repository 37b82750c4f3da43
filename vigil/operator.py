"""The operator token: one credential, outside every account, that opens the operator
routes. Only its SHA-256 is configured (VIGIL_OPERATOR_TOKEN_HASH); it is 256-bit random,
so a fast hash cannot be brute-forced."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from vigil.constants import OPERATOR_TOKEN_PREFIX


def generate_operator_token() -> tuple[str, str]:
    """(token, sha256 hex of the token)."""
    token = OPERATOR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def operator_token_matches(token: str, configured_hash: str) -> bool:
    if not configured_hash:
        return False
    return hmac.compare_digest(token_hash(token), configured_hash.lower())
