"""Operator route bodies and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from vigil.accounts import check_account_name


class AccountRead(BaseModel):
    id: int
    name: str
    created_at: datetime
    disabled: bool
    active_keys: int
    users: int
    monitors: int


class AccountCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        check_account_name(name)
        return name


class AccountCreated(BaseModel):
    account: AccountRead
    api_key: str  # the account's first admin key, shown once; only its hash is kept


class SystemHealth(BaseModel):
    status: str
    database: str
    redis: str
    dead_letters: int | None  # None while Redis is unreachable
    queued_batches: dict[str, int]  # check batches waiting, per region
    pool: dict[str, int]  # the API process's database connections
    security_events: dict[str, int] = {}  # suspicious requests this API process saw, by event
    # The read replica as this API process last probed it: state (off, ok, lagging, down,
    # not a standby, unknown), lag_seconds, max_lag_seconds, reads_from (replica or primary).
    # A replica that is down or lagging does not make the status degraded: reads go to the primary.
    read_replica: dict[str, str | float | None] = {}
