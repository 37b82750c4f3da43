"""Schemas of status pages, status incidents and badges: Create, Update (any subset), Read."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from api.textguard import refuse_nul

SLUG = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$"
Slug = Annotated[str, StringConstraints(pattern=SLUG)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# A host name: labels of letters, digits and hyphens, stored in lower case.
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
Visibility = Literal["public", "link"]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
Impact = Literal["none", "minor", "major", "critical"]
MAX_SECTIONS = 20
MAX_MONITORS_PER_PAGE = 100


def key_of(display_name: str) -> str:
    """A badge key from a display name: lower-case letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")[:64].strip("-") or "monitor"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return refuse_nul(data)


class PageMonitor(Strict):
    monitor_id: int = Field(ge=1, le=2**31 - 1)
    display_name: Name = Field(description="the name the public sees (the monitor's own name stays private)")
    key: Slug | None = Field(None, description="names the monitor in the page's badge addresses; "
                                               "default: from the display name")
    show_target: bool = Field(False, description="show the monitor's target (credentials masked)")

    @model_validator(mode="after")
    def _key(self) -> PageMonitor:
        if self.key is None:
            self.key = key_of(self.display_name)
        return self


class Section(Strict):
    name: Name
    monitors: list[PageMonitor] = Field(default_factory=list, max_length=MAX_MONITORS_PER_PAGE)


class PageFields(Strict):
    title: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    visibility: Visibility = Field("public", description="public: at /status/{slug}; link: only at an "
                                                         "unguessable link, shown once")
    custom_domain: str | None = Field(None, max_length=253, description="a host name whose requests to / "
                                                                        "show this page (public pages)")
    sections: list[Section] = Field(default_factory=list, max_length=MAX_SECTIONS)

    @field_validator("custom_domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.lower().rstrip(".")
        if not DOMAIN.match(v):
            raise ValueError("custom_domain must be a host name such as status.example.com")
        return v

    @field_validator("sections")
    @classmethod
    def _unique_keys(cls, v: list[Section]) -> list[Section]:
        monitors = [m for s in v for m in s.monitors]
        if len(monitors) > MAX_MONITORS_PER_PAGE:
            raise ValueError(f"a page shows at most {MAX_MONITORS_PER_PAGE} monitors")
        keys = [m.key for m in monitors]
        if len(set(keys)) != len(keys):
            raise ValueError("each monitor's key (default: from its display name) must be unique on the page")
        return v


class PageCreate(PageFields):
    slug: Slug = Field(description="the page's address: /status/{slug}")


class PageUpdate(Strict):
    slug: Slug | None = None
    title: Name | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    visibility: Visibility | None = None
    custom_domain: str | None = None
    sections: list[Section] | None = None


class PageMonitorRead(BaseModel):
    monitor_id: int
    display_name: str
    key: str
    show_target: bool
    badges: bool


class SectionRead(BaseModel):
    name: str
    monitors: list[PageMonitorRead]


class PageRead(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    visibility: Visibility
    custom_domain: str | None
    url: str | None = Field(None, description="the public address; for a link page only when issued")
    link: str | None = Field(None, description="a link page's unguessable address, shown once")
    sections: list[SectionRead]
    created_at: datetime
    updated_at: datetime


class IncidentFields(Strict):
    title: Name
    impact: Impact = "minor"
    monitor_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=MAX_MONITORS_PER_PAGE,
        description="monitors it affects; none: every page of the account shows it")


class IncidentCreate(IncidentFields):
    status: IncidentStatus = "investigating"
    message: Annotated[str, StringConstraints(min_length=1, max_length=5000)]


class IncidentUpdate(Strict):
    title: Name | None = None
    impact: Impact | None = None
    monitor_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        None, max_length=MAX_MONITORS_PER_PAGE)


class UpdateCreate(Strict):
    status: IncidentStatus
    message: Annotated[str, StringConstraints(min_length=1, max_length=5000)]


class UpdateRead(BaseModel):
    id: int
    status: IncidentStatus
    message: str
    created_at: datetime


class IncidentRead(BaseModel):
    id: int
    title: str
    impact: Impact
    status: IncidentStatus
    monitor_ids: list[int]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    updates: list[UpdateRead]


class BadgeRead(BaseModel):
    monitor_id: int
    token: str = Field(description="shown once; issuing again replaces it")
    status_url: str
    uptime_url: str
    p95_url: str
