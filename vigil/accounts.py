"""Accounts and API keys. A key reads ``vgl_<prefix>_<secret>``: the prefix is stored in
clear to find the key, the secret only as SHA-256 (keys are 256-bit random, so a fast
hash cannot be brute-forced and keeps every request cheap)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import psycopg

from vigil.constants import API_KEY_PREFIX
from vigil.queries import sql

# Scopes, narrowest first: each allows what the ones before it allow. The rule of which
# scope an API operation needs lives in api/scopes.py.
SCOPES = ("read", "write", "admin")
# Older names still accepted where a scope is given (`vigil create-account --scope member`).
SCOPE_ALIASES = {"member": "read"}
# Published on revocation; every API process drops the key from its cache at once.
KEY_REVOKED_CHANNEL = "vigil:api-keys:revoked"


def scope_name(value: str) -> str:
    """The scope ``value`` names (an alias resolved); ValueError for anything else."""
    scope = SCOPE_ALIASES.get(value, value)
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {value!r}")
    return scope


def scope_covers(held: str, needed: str) -> bool:
    return SCOPES.index(held) >= SCOPES.index(needed)


@dataclass(frozen=True, slots=True)
class NewKey:
    token: str  # shown once, never stored
    prefix: str
    secret_hash: bytes


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def generate_key() -> NewKey:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return NewKey(f"{API_KEY_PREFIX}{prefix}_{secret}", prefix, hash_secret(secret))


def split_token(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(API_KEY_PREFIX):].partition("_")
    if not sep or len(prefix) != 8 or not secret:
        return None
    return prefix, secret


def secret_matches(secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret), bytes(stored_hash))


class AccountExists(ValueError):
    pass


class NoSuchAccount(ValueError):
    pass


def check_account_name(name: str) -> None:
    if not name.strip() or len(name) > 200:
        raise ValueError(f"an account name is 1 to 200 characters, not blank; got {name[:40]!r}"
                         + ("..." if len(name) > 40 else ""))


def create_account(conn: psycopg.Connection, name: str, scope: str = "admin",
                   key_name: str = "") -> tuple[int, str]:
    """Create the account ``name`` with its first key; refuses a name already taken."""
    check_account_name(name)
    with conn.transaction():
        if conn.execute(sql("insert_account"), {"name": name}).fetchone() is None:
            raise AccountExists(f"account {name!r} already exists")
        return create_account_with_key(conn, name, scope, key_name)


def add_key(conn: psycopg.Connection, name: str, scope: str = "admin", key_name: str = "") -> tuple[int, str]:
    """A new key for the existing account ``name``."""
    if conn.execute(sql("account_by_name"), {"name": name}).fetchone() is None:
        raise NoSuchAccount(f"no account named {name!r}")
    return create_account_with_key(conn, name, scope, key_name)


def create_account_with_key(conn: psycopg.Connection, name: str, scope: str = "admin",
                            key_name: str = "") -> tuple[int, str]:
    """Create (or reuse) the account ``name`` and give it a new key; returns (account id, token)."""
    scope = scope_name(scope)
    check_account_name(name)
    account_id = conn.execute(sql("create_account"), {"name": name}).fetchone()[0]
    key = generate_key()
    conn.execute(sql("create_api_key"), {"account_id": account_id, "name": key_name,
                                         "prefix": key.prefix, "secret_hash": key.secret_hash,
                                         "scope": scope, "expires_at": None, "rate_limit_per_minute": None})
    return account_id, key.token
