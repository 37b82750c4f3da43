"""Channel secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with the
key(s) in VIGIL_SECRET_KEY. Several comma-separated keys rotate: the first encrypts, every
one may decrypt, so old rows stay readable until re-saved."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(RuntimeError):
    """VIGIL_SECRET_KEY is missing or cannot decrypt a stored secret."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _fernet(secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in secret_key.split(",") if k.strip()]
    if not keys:
        raise SecretKeyError("VIGIL_SECRET_KEY is not set; channel secrets cannot be stored or read "
                             "(generate one with `vigil secret-key`)")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise SecretKeyError(f"VIGIL_SECRET_KEY is not a valid Fernet key: {exc}") from None


def encrypt_secrets(secret_key: str, secrets: dict[str, Any]) -> bytes:
    return _fernet(secret_key).encrypt(json.dumps(secrets, separators=(",", ":")).encode())


def decrypt_secrets(secret_key: str, ciphertext: bytes | None) -> dict[str, Any]:
    if not ciphertext:
        return {}
    try:
        return json.loads(_fernet(secret_key).decrypt(bytes(ciphertext)))
    except InvalidToken:
        raise SecretKeyError("a channel secret cannot be decrypted with VIGIL_SECRET_KEY "
                             "(was the key changed without keeping the old one?)") from None
