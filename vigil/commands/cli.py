"""`vigil` command line: one entry point for every service and admin task."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys

from vigil.settings import get_settings

# Commands that are services: they may send traces (vigil/tracing.py), named after them.
TRACED_SERVICES = ("api", "scheduler", "worker", "aggregator", "evaluator", "notifier")


def _setup_logging(command: str = "") -> None:
    from vigil import logs, tracing

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    if command in TRACED_SERVICES:
        try:
            tracing.setup(command)
        except ValueError as exc:  # an OTEL_* variable names something unsupported
            raise SystemExit(f"vigil {command}: {exc}") from None


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; stay usable without it
        return
    uvloop.install()


def _run_until_signal(main) -> None:
    """Run ``main(stop_event)`` until SIGINT/SIGTERM sets the event."""
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


def _check_database() -> None:
    """Fail fast (psycopg.OperationalError, reported by main) when the database is down,
    before a command that would otherwise wait out a connection pool's timeout."""
    import psycopg

    psycopg.connect(get_settings().database_url, connect_timeout=5).close()


def cmd_migrate(args: argparse.Namespace) -> int:
    from vigil.migrate import APP_ROLE, ensure_app_role, migrate

    settings = get_settings()
    applied = migrate(settings)
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    if settings.app_db_password:
        ensure_app_role(settings, settings.app_db_password)
        print(f"role {APP_ROLE} is ready")
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    s = get_settings()
    uvicorn.run("api.app:create_app", factory=True, host=args.host or s.api_host,
                port=args.port or s.api_port, loop="uvloop", http="httptools", log_level="warning",
                log_config=None,
                access_log=False, workers=args.workers, server_header=False)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from ingest.scheduler import run_scheduler

    _install_uvloop()
    _run_until_signal(lambda stop: run_scheduler(get_settings(), stop))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from ingest.worker import make_worker

    _install_uvloop()
    s = get_settings()
    if args.region:
        s = s.model_copy(update={"region": args.region})
    asyncio.set_event_loop(asyncio.new_event_loop())
    make_worker(s).run()
    return 0


def cmd_aggregator(args: argparse.Namespace) -> int:
    from aggregator.service import main as aggregator_main

    if args.once:
        _check_database()
    return aggregator_main(args)


def cmd_seed(args: argparse.Namespace) -> int:
    from aggregator.seed import SeedPlan, seed

    plan = SeedPlan(monitors=args.monitors, days=args.days, regions=args.regions.split(","),
                    interval_s=args.interval, account=args.account, quorum=args.quorum, seed=args.seed)
    try:
        plan.check()
    except ValueError as exc:
        print(f"vigil seed: {exc}", file=sys.stderr)
        return 2
    _check_database()
    print(json.dumps(seed(get_settings().database_url, plan)))
    return 0


def cmd_evaluator(args: argparse.Namespace) -> int:
    from evaluator.service import main as evaluator_main

    if args.once:
        _check_database()
    return evaluator_main(args)


def cmd_notifier(args: argparse.Namespace) -> int:
    from notify.cli import notifier

    return notifier(get_settings(), _run_until_signal)


def cmd_report(args: argparse.Namespace) -> int:
    from notify.cli import report

    _check_database()
    return report(get_settings(), args)


def cmd_secret_key(args: argparse.Namespace) -> int:
    from notify.crypto import generate_key

    print(generate_key())
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from vigil.commands.up import up

    return up(demo=not args.no_demo, with_prometheus=args.with_prometheus)


def cmd_demo_target(args: argparse.Namespace) -> int:
    from vigil.commands.demo import serve

    serve(args.port)
    return 0


def cmd_create_account(args: argparse.Namespace) -> int:
    import psycopg

    from vigil.accounts import AccountExists, add_key, create_account, scope_name

    scope = scope_name(args.scope)
    with psycopg.connect(get_settings().database_url) as conn:
        try:
            make = add_key if args.add_key else create_account
            account_id, token = make(conn, args.name, scope, args.key_name)
        except AccountExists as exc:
            raise AccountExists(f"{exc}; pass --add-key to add a key to it") from None
    print(json.dumps({"account_id": account_id, "name": args.name, "scope": scope, "api_key": token}))
    print("store this key now: only its hash is kept", file=sys.stderr)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    if not sys.stdin.isatty():
        raise ValueError("no terminal to prompt for the password on: pass --password-stdin and pipe it in")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise ValueError("the two passwords differ")
    return password


def cmd_create_user(args: argparse.Namespace) -> int:
    import psycopg

    from vigil.passwords import check_password_rules
    from vigil.users import check_email, create_user

    check_email(args.email)  # before asking for a password
    password = _read_password(args.password_stdin)
    check_password_rules(password)
    with psycopg.connect(get_settings().database_url) as conn:
        user_id = create_user(conn, get_settings(), args.account, args.email, password, args.role)
    print(json.dumps({"user_id": user_id, "account": args.account, "email": args.email.strip(),
                      "role": args.role}))
    return 0


def cmd_operator_token(args: argparse.Namespace) -> int:
    from vigil.operator import generate_operator_token

    token, digest = generate_operator_token()
    print(token)
    print(f"VIGIL_OPERATOR_TOKEN_HASH={digest}")
    print("store the token now (first line): only its hash goes in the environment (second line)",
          file=sys.stderr)
    return 0


def _announce_revocation(prefix: str) -> None:
    """Tell running API processes to drop the key now (else they refuse it within 10 s)."""
    import redis

    from vigil.accounts import KEY_REVOKED_CHANNEL

    try:
        with redis.Redis.from_url(get_settings().redis_url, socket_timeout=2) as r:
            r.publish(KEY_REVOKED_CHANNEL, prefix)
    except redis.RedisError as exc:
        print(f"vigil: key revoked, but running APIs were not told at once ({exc}); "
              "they refuse it within 10 s", file=sys.stderr)


def cmd_revoke_key(args: argparse.Namespace) -> int:
    import psycopg

    from vigil.accounts import split_token
    from vigil.queries import sql

    parts = split_token(args.key)
    prefix = parts[0] if parts else args.key
    with psycopg.connect(get_settings().database_url) as conn:
        row = conn.execute(sql("revoke_api_key"), {"prefix": prefix}).fetchone()
    if row is None:
        print(f"vigil: no active key with prefix {prefix!r}", file=sys.stderr)
        return 2
    print(f"revoked key {prefix}")
    _announce_revocation(prefix)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ingest.oneshot import check_once, spec_from_args

    try:
        spec = spec_from_args(args)
    except ValueError as exc:
        print(f"vigil check: {exc}", file=sys.stderr)
        return 2
    allow = True if args.allow_private else get_settings().outbound_policy()
    result = asyncio.run(check_once(spec, allow, get_settings().database_url))
    print(json.dumps({"target": spec.target, "kind": spec.kind, **result.as_dict()}))
    return 0 if result.up else 1


def cmd_backup(args: argparse.Namespace) -> int:
    from vigil.backup import backup

    manifest = backup(get_settings().database_url, args.file)
    print(json.dumps({**manifest["archive"], "file": args.file, "timescaledb": manifest["timescaledb"],
                      "tables": len(manifest["rows"]), "rows": sum(manifest["rows"].values())}))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from vigil.backup import restore

    print(json.dumps(restore(get_settings().database_url, args.file, privileges=not args.no_privileges)))
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from ingest.deadletters_cli import main as dead_letters_main

    return dead_letters_main(get_settings(), args.requeue, args.limit)


class _Parser(argparse.ArgumentParser):
    """A bad argument is one line naming it (argparse would print the whole usage first).

    ``arguments_when_used`` adds a command's arguments only when that command is parsed:
    `vigil check` reads its flags from the check kinds, whose imports other commands need
    not pay for."""

    def __init__(self, *args, arguments_when_used=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._arguments_when_used = arguments_when_used

    def parse_known_args(self, args=None, namespace=None):
        if self._arguments_when_used is not None:
            self._arguments_when_used(self)
            self._arguments_when_used = None
        return super().parse_known_args(args, namespace)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="vigil", description="Vigil uptime monitoring backend")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("migrate", help="apply database migrations (and, with VIGIL_APP_DB_PASSWORD, create the services' role)").set_defaults(fn=cmd_migrate)

    api = sub.add_parser("api", help="serve the REST API")
    api.add_argument("--host")
    api.add_argument("--port", type=_port)
    api.add_argument("--workers", type=_positive, default=1)
    api.set_defaults(fn=cmd_api)

    sub.add_parser("scheduler", help="enqueue due checks").set_defaults(fn=cmd_scheduler)

    w = sub.add_parser("worker", help="run checks for one region")
    w.add_argument("--region", help="region to serve (default VIGIL_REGION)")
    w.set_defaults(fn=cmd_worker)

    agg = sub.add_parser("aggregator", help="build hourly/daily rollups (every minute)")
    agg.add_argument("--once", action="store_true", help="roll what is due once and exit")
    agg.set_defaults(fn=cmd_aggregator)

    sd = sub.add_parser("seed", help="generate realistic check history (COPY) for demos and benchmarks")
    sd.add_argument("--monitors", type=int, required=True)
    sd.add_argument("--days", type=float, required=True)
    sd.add_argument("--regions", default="local", help="comma-separated region names (default local)")
    sd.add_argument("--interval", type=int, default=60, help="check interval in seconds (default 60)")
    sd.add_argument("--account", default="seed", help="account owning the monitors (created if missing)")
    sd.add_argument("--quorum", type=int, default=1, help="region quorum of the monitors")
    sd.add_argument("--seed", type=int, default=1, help="random seed")
    sd.set_defaults(fn=cmd_seed)

    ev = sub.add_parser("evaluator", help="evaluate alert rules (every minute)")
    ev.add_argument("--once", action="store_true", help="evaluate once and exit")
    ev.add_argument("--at", help="evaluate as of this ISO time (with --once)")
    ev.set_defaults(fn=cmd_evaluator)

    sub.add_parser("notifier", help="deliver notifications and queue weekly reports").set_defaults(
        fn=cmd_notifier)

    rep = sub.add_parser("report", help="render (--out) or send (--send) an account's weekly SLO report")
    rep.add_argument("--account", required=True, help="account name")
    rep.add_argument("--week", help="ISO week such as 2026-W47 (default: the last finished week)")
    rep.add_argument("--out", help="write the report as a standalone HTML file")
    rep.add_argument("--send", action="store_true", help="email it to the account's email channels (once per week)")
    rep.set_defaults(fn=cmd_report)

    sub.add_parser("secret-key", help="print a new key for VIGIL_SECRET_KEY").set_defaults(fn=cmd_secret_key)

    upp = sub.add_parser("up", help="start PostgreSQL, Redis and every service locally, with a demo")
    upp.add_argument("--no-demo", action="store_true", help="do not create the demo account and target")
    upp.add_argument("--with-prometheus", action="store_true",
                     help="also run Debian's Prometheus (port VIGIL_PROMETHEUS_PORT, default 9090) "
                          "scraping every service, with the alert rules of prometheus/rules.yml")
    upp.set_defaults(fn=cmd_up)

    dt = sub.add_parser("demo-target", help="serve the demo HTTP target on loopback")
    dt.add_argument("--port", type=_port, default=8099)
    dt.set_defaults(fn=cmd_demo_target)

    ca = sub.add_parser("create-account", help="create an account and print its first API key")
    ca.add_argument("name")
    ca.add_argument("--scope", "--role", dest="scope", default="admin",
                    choices=["read", "write", "admin", "member"], help="member is the old name of read")
    ca.add_argument("--key-name", default="")
    ca.add_argument("--add-key", action="store_true", help="add a key to the existing account NAME instead")
    ca.set_defaults(fn=cmd_create_account)

    cu = sub.add_parser("create-user", help="create a user who signs in with an email and a password")
    cu.add_argument("--account", required=True, help="account name")
    cu.add_argument("--email", required=True)
    cu.add_argument("--role", choices=["read", "write", "admin"], required=True)
    cu.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    cu.set_defaults(fn=cmd_create_user)

    sub.add_parser("operator-token", help="print a new operator token and its VIGIL_OPERATOR_TOKEN_HASH line"
                   ).set_defaults(fn=cmd_operator_token)

    rk = sub.add_parser("revoke-key", help="revoke an API key (the key or its 8-character prefix)")
    rk.add_argument("key")
    rk.set_defaults(fn=cmd_revoke_key)

    from ingest.oneshot import add_arguments as add_check_arguments

    ck = sub.add_parser("check", help="check one target now and print the result as JSON",
                        arguments_when_used=add_check_arguments)
    ck.set_defaults(fn=cmd_check)

    bk = sub.add_parser("backup", help="dump the database (VIGIL_DATABASE_URL) to FILE, with FILE.json beside it")
    bk.add_argument("file", help="the archive to write (a new file)")
    bk.set_defaults(fn=cmd_backup)

    rs = sub.add_parser("restore", help="restore a backup into the empty or missing database at VIGIL_DATABASE_URL")
    rs.add_argument("file", help="an archive `vigil backup` wrote (its FILE.json beside it)")
    rs.add_argument("--no-privileges", action="store_true",
                    help="leave out the backup's GRANTs (when their roles do not exist here)")
    rs.set_defaults(fn=cmd_restore)

    dl = sub.add_parser("dead-letters", help="list check batches that failed every try (or requeue them)")
    dl.add_argument("--requeue", action="store_true", help="put every dead letter back on its queue")
    dl.add_argument("--limit", type=int, default=100, help="how many to list (newest first)")
    dl.set_defaults(fn=cmd_dead_letters)
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        _setup_logging(args.command)
        code = args.fn(args)
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - a user's mistake ends as one line, never a traceback
        from vigil.clierrors import describe

        message = describe(exc)
        if message is None or logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        print(f"vigil {args.command}: {message}", file=sys.stderr)
        code = 2
    sys.exit(code)
