"""Channel schemas in threes. ``config`` is validated per kind (notify/channels.py); reads
never carry a secret, only ``has_secret`` and, for Slack/Discord, a masked URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.textguard import refuse_nul

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _no_nul = model_validator(mode="before")(classmethod(lambda cls, data: refuse_nul(data)))

    name: Name
    kind: Literal["webhook", "slack", "discord", "email"]
    config: dict[str, Any] = Field(description="per kind: webhook {url, secret}, slack/discord {url}, "
                                               "email {to: [addresses]}")
    enabled: bool = True


class ChannelUpdate(BaseModel):
    """Any subset. A config replaces the old one; a secret left out of it is kept."""

    model_config = ConfigDict(extra="forbid")

    _no_nul = model_validator(mode="before")(classmethod(lambda cls, data: refuse_nul(data)))

    name: Name | None = None
    config: dict[str, Any] | None = None
    enabled: bool | None = None


class ChannelRead(BaseModel):
    id: int
    name: str
    kind: str
    config: dict[str, Any]
    has_secret: bool
    enabled: bool
    created_at: datetime


class TestQueued(BaseModel):
    notification_id: int
    status: str
