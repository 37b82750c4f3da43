"""API key schemas: the token is in KeyCreated only, returned once by the create call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.textguard import refuse_nul

Scope = Literal["read", "write", "admin"]
MAX_LIFETIME = timedelta(days=3650)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=200)] = ""
    scope: Scope = "read"
    expires_at: AwareDatetime | None = Field(default=None, description="when the key stops working")
    expires_in: int | None = Field(default=None, ge=60, le=int(MAX_LIFETIME.total_seconds()),
                                   description="seconds from now the key stops working (instead of expires_at)")
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000,
                                              description="this key's limit; default the server's")

    _no_nul = model_validator(mode="before")(classmethod(lambda cls, data: refuse_nul(data)))

    @model_validator(mode="after")
    def _one_expiry(self) -> KeyCreate:
        if self.expires_at is not None and self.expires_in is not None:
            raise ValueError("give expires_at or expires_in, not both")
        now = datetime.now(UTC)
        if self.expires_in is not None:
            self.expires_at, self.expires_in = now + timedelta(seconds=self.expires_in), None
        elif self.expires_at is not None and not now < self.expires_at <= now + MAX_LIFETIME:
            raise ValueError("expires_at must be in the future and at most ten years away")
        return self


class KeyRead(BaseModel):
    id: int
    prefix: str
    name: str
    scope: Scope
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    requests: int
    rate_limit_per_minute: int | None


class KeyCreated(KeyRead):
    token: str = Field(description="the key itself: shown this once, only its hash is stored")
