"""Where the key that signs access tokens comes from: VIGIL_JWT_SECRET, else (outside
production) a key generated once into the data folder, readable by its owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from vigil.paths import data_dir
from vigil.settings import Settings

MIN_SECRET_LENGTH = 32  # HS256 wants a key at least as long as its 256-bit output
SECRET_FILE = "jwt_secret"


class SignInUnavailable(Exception):
    """Sign-in cannot work with these settings; the message says what to set."""


def stored_secret(data: Path) -> str:
    """The secret kept in ``data``, created with mode 0600 on first use."""
    path = data / SECRET_FILE
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret:
        if len(settings.jwt_secret) < MIN_SECRET_LENGTH:
            raise SignInUnavailable(f"VIGIL_JWT_SECRET has {len(settings.jwt_secret)} characters; sign-in "
                                    f"needs at least {MIN_SECRET_LENGTH} (e.g. from `vigil secret-key`)")
        return settings.jwt_secret
    if settings.production:
        raise SignInUnavailable("sign-in is off: VIGIL_JWT_SECRET is not set, and production mode "
                                "(VIGIL_PRODUCTION) never generates one; set it to 32 or more random "
                                "characters (e.g. from `vigil secret-key`)")
    return stored_secret(data_dir())
