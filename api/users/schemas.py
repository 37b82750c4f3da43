"""Sign-in bodies and answers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vigil.passwords import MAX_PASSWORD_LENGTH
from vigil.users import MAX_EMAIL_LENGTH


class LoginCreate(BaseModel):
    email: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class RefreshCreate(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokensRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int  # seconds the access token is valid
    refresh_token: str  # shown once; only its hash is kept
