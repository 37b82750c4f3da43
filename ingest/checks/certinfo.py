"""What a TLS peer certificate says that Vigil records: expiry, subject and issuer.

Parsed from the DER bytes with `cryptography`, because the standard library only decodes
a certificate it has verified, and an expired or self-signed one is exactly what must be
recorded."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509


@dataclass(frozen=True, slots=True)
class CertInfo:
    not_after: datetime
    subject: str
    issuer: str

    def days_left(self, now: datetime | None = None) -> float:
        return (self.not_after - (now or datetime.now(UTC))).total_seconds() / 86_400

    def as_dict(self) -> dict[str, str | float]:
        return {"not_after": self.not_after.isoformat(), "subject": self.subject,
                "issuer": self.issuer, "days_left": round(self.days_left(), 2)}


def from_der(der: bytes) -> CertInfo:
    cert = x509.load_der_x509_certificate(der)
    return CertInfo(not_after=cert.not_valid_after_utc, subject=cert.subject.rfc4514_string(),
                    issuer=cert.issuer.rfc4514_string())


def from_ssl_object(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> CertInfo | None:
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return from_der(der) if der else None
