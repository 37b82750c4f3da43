"""Users: people who sign in to an account with an email and a password, each with a role
(read, write or admin, the names API-key scopes use)."""

from __future__ import annotations

import re

import psycopg
from psycopg import errors as pg

from vigil.accounts import NoSuchAccount
from vigil.passwords import hash_password
from vigil.queries import sql
from vigil.settings import Settings

USER_ROLES = ("read", "write", "admin")
# Deliberately loose: one @, something on each side, no spaces. Delivery proves the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_EMAIL_LENGTH = 254


class UserExists(ValueError):
    pass


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError(f"not an email address: {email[:60]!r}")
    return email


def create_user(conn: psycopg.Connection, settings: Settings, account: str, email: str, password: str,
                role: str) -> int:
    """A new user of the account named ``account``; returns its id."""
    if role not in USER_ROLES:
        raise ValueError(f"role must be one of {', '.join(USER_ROLES)}, got {role!r}")
    email = check_email(email)
    row = conn.execute(sql("account_by_name"), {"name": account}).fetchone()
    if row is None:
        raise NoSuchAccount(f"no account named {account!r}")
    password_hash = hash_password(settings, password)
    try:
        with conn.transaction():
            return conn.execute(sql("create_user"), {"account_id": row[0], "email": email,
                                                     "password_hash": password_hash, "role": role}).fetchone()[0]
    except pg.UniqueViolation:
        raise UserExists(f"a user with email {email!r} already exists") from None
