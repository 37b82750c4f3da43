"""Channel kinds: what each kind's config holds, which parts are secret, and how a stored
channel is shown. The secret parts (a webhook's signing secret, a Slack or Discord webhook
URL, which lets anyone post) are stored encrypted in channels.secret_ciphertext; the rest
in channels.config. Nothing secret is ever returned: reads show ``has_secret`` and a mask."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from vigil.masking import MASK, mask_url
from vigil.netguard import Policy, check_literal, default_port, valid_port

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2048)]


def check_outbound_url(url: str, allow_private: bool | Policy) -> str:
    """An http(s) URL with a host; a private address in any spelling, or localhost, is
    refused here already (names are judged by resolving them when the channel is saved,
    and on the resolved address at every delivery)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if not valid_port(parts):
        raise ValueError("the port must be a number from 1 to 65535")
    if parts.username == MASK:
        raise ValueError("the URL's credentials are masked as read back; send the URL with its credentials")
    check_literal(parts.hostname, default_port(parts), allow_private)
    return url


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookConfig(_Config):
    url: Url
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] | None = Field(
        default=None, description="HMAC signing secret (write-only; at least 16 characters)")


class SlackConfig(_Config):
    url: Url = Field(description="Slack incoming webhook URL (write-only: it is a secret)")


class DiscordConfig(_Config):
    url: Url = Field(description="Discord webhook URL (write-only: it is a secret)")


class EmailConfig(_Config):
    to: list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)]] = Field(
        min_length=1, max_length=50)

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not _EMAIL.match(a)]
        if bad:
            raise ValueError(f"not an email address: {bad[0]!r}")
        return v


CONFIG_MODELS: dict[str, type[_Config]] = {
    "webhook": WebhookConfig, "slack": SlackConfig, "discord": DiscordConfig, "email": EmailConfig}
SECRET_FIELDS = {"webhook": ("secret",), "slack": ("url",), "discord": ("url",), "email": ()}


def parse_config(kind: str, raw: dict[str, Any], allow_private: bool | Policy) -> _Config:
    """Validate a kind's config (raises pydantic.ValidationError or ValueError naming the field)."""
    config = CONFIG_MODELS[kind].model_validate(raw)
    url = getattr(config, "url", None)
    if url is not None:
        try:
            check_outbound_url(url, allow_private)
        except ValueError as exc:
            raise ValueError(f"config.url: {exc}") from None
    return config


def delivery_secrets(config: dict[str, Any], secrets: dict[str, Any]) -> list[str]:
    """Every secret string a channel's delivery could echo: its encrypted secrets (a Slack
    or Discord URL, a signing secret) and the password in a webhook URL."""
    password = urlsplit(config["url"]).password if isinstance(config.get("url"), str) else None
    return [str(v) for v in secrets.values() if v] + ([password] if password else [])


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    """A stored public config as any reader may see it: a URL's credentials masked."""
    if isinstance(config.get("url"), str):
        return {**config, "url": mask_url(config["url"])}
    return config


def split_config(kind: str, config: _Config) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public config stored in clear, secrets to encrypt); a None secret means 'keep'."""
    data = config.model_dump()
    secrets = {f: data.pop(f) for f in SECRET_FIELDS[kind] if data.get(f) is not None}
    data = {k: v for k, v in data.items() if k not in SECRET_FIELDS[kind]}
    if kind in ("slack", "discord") and "url" in secrets:
        # Scheme and host only: a reader can tell which hook it is without being able to post.
        data["url_masked"] = mask_url(secrets["url"], secret_path=True)
    return data, secrets

