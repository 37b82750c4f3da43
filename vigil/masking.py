"""The one way secrets are hidden wherever they could be shown: API responses, stored
delivery errors and log lines. A Slack or Discord URL is itself the secret (anyone holding
it can post), so only its scheme and host remain; credentials inside any URL
(``user:pass@host``) are always replaced."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "****"
# user:pass@ (or user@) right after a scheme, as it appears in any URL inside free text.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]+@")
# A secret shorter than this is not searched for in text (it would mask ordinary words).
_MIN_SECRET = 6


def mask_url(url: str, *, secret_path: bool = False) -> str:
    """The URL with its credentials masked; with ``secret_path`` only scheme and host remain."""
    parts = urlsplit(url)
    if secret_path:
        return f"{parts.scheme}://{parts.hostname}/{MASK}"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=f"{MASK}@{parts.netloc.rsplit('@', 1)[1]}"))


def _forms(secret: str) -> list[str]:
    """The strings a secret can show up as: itself, and for a URL its path with the query
    (error messages often print a URL re-encoded, but keep the path as sent)."""
    forms = [secret]
    parts = urlsplit(secret)
    if parts.scheme in ("http", "https") and parts.hostname:
        tail = urlunsplit(("", "", parts.path, parts.query, ""))
        if len(tail) > 1:
            forms.append(tail)
        if parts.password:
            forms.append(parts.password)
    return forms


def mask_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every occurrence of the given secrets (and of URL credentials) masked."""
    forms = {f for s in secrets if s for f in _forms(s) if len(f) >= _MIN_SECRET}
    for form in sorted(forms, key=len, reverse=True):
        if form in text:
            masked = mask_url(form, secret_path=True) if "://" in form else (
                f"/{MASK}" if form.startswith("/") else MASK)
            text = text.replace(form, masked)
    return _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK}@", text)
