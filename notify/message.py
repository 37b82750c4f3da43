"""A claimed notification as the transports see it. The payload is written by the evaluator
(incident id, rule, monitor, severity, state, started_at, resolved_at, summary); this reads
it tolerantly (flat ``monitor_name`` or nested ``monitor: {name}``) so transports need not care."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STATE_COLORS = {"firing": 0xD93025, "reminder": 0xF29900, "resolved": 0x188038, "test": 0x1A73E8,
                "report": 0x1A73E8}


def _nested(payload: dict[str, Any], key: str, sub: str) -> Any:
    value = payload.get(key)
    if isinstance(value, dict):
        return value.get(sub)
    return payload.get(f"{key}_{sub}")


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    account_id: int
    channel_id: int
    channel_name: str
    kind: str
    event: str
    attempts: int
    created_at: datetime
    payload: dict[str, Any]
    config: dict[str, Any]
    secrets: dict[str, Any] = field(default_factory=dict)
    incident_id: int | None = None

    @property
    def state(self) -> str:
        # The event, not the payload's incident state: a reminder's incident is 'firing'.
        return self.event

    @property
    def monitor_name(self) -> str:
        return str(_nested(self.payload, "monitor", "name") or "")

    @property
    def monitor_target(self) -> str:
        return str(_nested(self.payload, "monitor", "target") or "")

    @property
    def rule(self) -> str:
        rule = self.payload.get("rule")
        if isinstance(rule, dict):
            return str(rule.get("name") or rule.get("kind") or "")
        return str(rule or "")

    @property
    def severity(self) -> str:
        return str(self.payload.get("severity") or "")

    @property
    def summary(self) -> str:
        return str(self.payload.get("summary") or f"{self.state}: {self.monitor_name}")

    @property
    def color(self) -> int:
        return STATE_COLORS.get(self.state, 0x5F6368)

    def title(self) -> str:
        label = {"firing": "FIRING", "resolved": "RESOLVED", "reminder": "STILL FIRING",
                 "test": "TEST"}.get(self.state, self.state.upper())
        return f"[{label}] {self.monitor_name}".rstrip() if self.monitor_name else f"[{label}] Vigil"

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) pairs worth showing, in order, empty ones left out."""
        pairs = [("Monitor", self.monitor_name), ("Target", self.monitor_target), ("Rule", self.rule),
                 ("Severity", self.severity), ("Started", str(self.payload.get("started_at") or "")),
                 ("Resolved", str(self.payload.get("resolved_at") or "")),
                 ("Incident", str(self.incident_id or self.payload.get("incident_id") or ""))]
        return [(k, v) for k, v in pairs if v and v != "None"]

    def body(self) -> dict[str, Any]:
        """The generic JSON document (webhook body)."""
        return {"id": self.id, "event": self.event, "created_at": self.created_at.isoformat(),
                "channel": {"id": self.channel_id, "name": self.channel_name},
                "incident_id": self.incident_id, "data": self.payload}
