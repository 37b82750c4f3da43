"""Password hashing with argon2id (argon2-cffi). Costs come from settings: the library's
defaults in production, cheap ones in tests."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vigil.settings import Settings

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work one request asks


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher(settings: Settings) -> PasswordHasher:
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


@lru_cache(maxsize=4)
def _dummy_hash(ph: PasswordHasher) -> str:
    return ph.hash("no user has this password")


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password has at most {MAX_PASSWORD_LENGTH} characters, got {len(password)}")


def hash_password(settings: Settings, password: str) -> str:
    check_password_rules(password)
    return hasher(settings).hash(password)


def verify_password(settings: Settings, stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no stored hash (unknown email) a dummy hash is
    checked instead, so both answers take about as long."""
    ph = hasher(settings)
    try:
        return ph.verify(stored_hash or _dummy_hash(ph), password[:MAX_PASSWORD_LENGTH]) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False
