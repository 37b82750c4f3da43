"""The demo account's public status page, which `vigil up` creates once (and on any later
start that finds it missing): the demo monitors in three sections under public names, an
incident about the flapping monitor with two updates, and badges on for the homepage."""

from __future__ import annotations

import psycopg

from api.status_pages.service import new_badge_token
from vigil.accounts import hash_secret
from vigil.queries import sql

SLUG = "demo"
# Section -> (demo monitor name, public name, badge key), in the order shown.
SECTIONS = {
    "Website": [("demo: homepage", "Homepage", "homepage"), ("demo: login", "Sign-in", "sign-in")],
    "API": [("demo: api", "Public API", "api"), ("demo: slow search", "Search", "search")],
    "Shop": [("demo: flapping cart", "Shopping cart", "cart"), ("demo: retired service", "Legacy orders", "legacy")],
}
BADGE_KEY = "homepage"


def ensure_status_page(conn: psycopg.Connection, account_id: int) -> str:
    """Create the demo page unless the slug exists; returns its path."""
    if conn.execute("SELECT 1 FROM status_pages WHERE slug = %s", (SLUG,)).fetchone():
        return f"/status/{SLUG}"
    ids = dict(conn.execute("SELECT name, id FROM monitors WHERE account_id = %s", (account_id,)).fetchall())
    with conn.transaction():
        page = conn.execute(sql("status_page_create"), {
            "account_id": account_id, "slug": SLUG, "title": "Vigil demo status",
            "description": "The demo services `vigil up` watches on this machine.", "visibility": "public",
            "link_token_hash": None, "custom_domain": None}).fetchone()[0]
        for position, (name, monitors) in enumerate(SECTIONS.items()):
            section = conn.execute(sql("status_page_add_section"),
                                   {"page_id": page, "name": name, "position": position}).fetchone()[0]
            for i, (monitor, public, key) in enumerate(m for m in monitors if m[0] in ids):
                conn.execute(sql("status_page_add_monitor"), {
                    "section_id": section, "page_id": page, "monitor_id": ids[monitor], "position": i,
                    "display_name": public, "key": key, "show_target": False})
        cart = [ids["demo: flapping cart"]] if "demo: flapping cart" in ids else []
        incident = conn.execute(sql("status_incident_create"), {
            "account_id": account_id, "title": "Shopping cart fails now and then", "impact": "minor",
            "status": "identified", "monitor_ids": cart}).fetchone()[0]
        for status, message in (("investigating", "Some checkouts fail with an error; we are looking into it."),
                                ("identified", "One of the cart servers restarts every few minutes; "
                                               "a fix is being rolled out.")):
            conn.execute(sql("status_incident_add_update"),
                         {"incident_id": incident, "status": status, "message": message})
        if "demo: homepage" in ids:
            conn.execute(sql("badge_issue"), {"monitor_id": ids["demo: homepage"],
                                              "token_hash": hash_secret(new_badge_token())})
    return f"/status/{SLUG}"
