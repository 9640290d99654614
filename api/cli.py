"""The `registry` command. User mistakes end in one line on stderr and a non-zero exit."""
from __future__ import annotations

import argparse
import os
import sys
import time

from pydantic import ValidationError

from registry import logs
from registry.errors import InvalidInput, RegistryError
from registry.settings import get_settings

from .cli_folders import cmd_import, cmd_validate, container_from_env
from .client import ApiError


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import run

    if args.workers < 1:
        raise InvalidInput("--workers must be 1 or more")
    return run(get_settings(), args.host, args.port, args.workers)


def cores() -> int:
    """The cores this process may run on: how many processes `serve` starts by default."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cmd_user_add(args: argparse.Namespace) -> int:
    from registry.services import users

    user = users.add_user(container_from_env(), args.name, args.email, args.admin)
    print(f"created user {user.name}" + (" (admin)" if user.is_admin else ""))
    return 0


def cmd_user_invite(args: argparse.Namespace) -> int:
    from registry.services import accounts

    print(accounts.make_invite(container_from_env(), None, args.email))
    return 0


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    from registry.services import accounts

    print(accounts.make_reset_link(container_from_env(), None, args.name))
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    from registry.services import accounts_data

    user = accounts_data.set_disabled(container_from_env(), None, args.name, args.command_name == "disable")
    print(f"{'disabled' if user.disabled else 'enabled'} user {user.name}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from registry.services import users

    print(users.create_token(container_from_env(), args.user, args.scope, args.expires_days))
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from registry.services import users

    def when(at: float | None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)) if at else "-"

    print("id\tscope\tcreated\texpires\tlast used\tstate")
    for t in users.tokens_of(container_from_env(), args.user):
        state = "revoked" if t.revoked else "expired" if t.expires_at and t.expires_at < time.time() else "active"
        print(f"{t.id}\t{t.scope}\t{when(t.created_at)}\t{when(t.expires_at)}\t{when(t.last_used_at)}\t{state}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from registry.services import users

    token = users.revoke_token(container_from_env(), args.id)
    print(f"revoked token {token.id} ({token.scope})")
    return 0


def cmd_token_rotate(args: argparse.Namespace) -> int:
    from registry.services import users

    print(users.rotate_token(container_from_env(), args.id))
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    from registry.services import maintenance

    report = maintenance.gc(container_from_env(), args.grace_seconds, progress=lambda m: print(m, file=sys.stderr))
    print(f"{report.repos} repos, {report.repacked} repacked, {report.packs_removed} unreferenced packs removed")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    import json

    from registry.meta.records_events import EventFilter
    from registry.services import audit

    where = EventFilter(None, args.action, args.actor, audit.parse_time(args.since, "--since"),
                        audit.parse_time(args.until, "--until"), args.template)
    for event in audit.operator_events(container_from_env(), where, args.limit):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event.time))
        print(f"{when} {event.actor or '-'} {event.action} {event.template or '-'} "
              f"{json.dumps(event.payload, sort_keys=True, separators=(',', ':'))}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from registry.services import maintenance
    from workers.bootstrap import bootstrap
    from workers.worker import run_worker

    from .startup import when_up

    system = bootstrap(get_settings(), "worker", migrate=False)
    when_up(lambda: maintenance.migrate(system.container))  # a database that is down: waited for
    redis_url = system.container.settings.redis_url
    print(f"worker on {', '.join(args.queues)} ({redis_url or 'no REGISTRY_REDIS_URL'})", flush=True)
    run_worker(system, args.queues, args.burst)
    return 0


def cmd_checks_requeue(args: argparse.Namespace) -> int:
    from workers.bootstrap import bootstrap

    pipeline = bootstrap(get_settings(), "batch").queue
    count = pipeline.reconcile(full=True, older_than=time.time() + 1)
    pipeline.drain(timeout=600)  # embedded: run them here and now
    pipeline.stop()
    print(f"handed checks of {count} commits to the queue")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from registry.services import gallery

    count = gallery.reindex(container_from_env())
    print(f"indexed {count} templates")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from registry.services import maintenance

    version, dialect = maintenance.db_upgrade(get_settings())
    print(f"metadata schema at revision {version} ({dialect})")
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    from registry.services import maintenance

    counts, target = maintenance.db_copy(get_settings(), args.to)
    print(f"copied {sum(counts.values())} rows ({', '.join(f'{k} {v}' for k, v in counts.items() if v)}) "
          f"to {target}; set REGISTRY_DATABASE_URL to use it")
    return 0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_backup(args: argparse.Namespace) -> int:
    from registry.services import backups

    r = backups.backup(container_from_env(), args.dest, progress=_stderr)
    print(f"backup {r.stamp}: {r.templates} templates, {r.packs_copied} packs copied "
          f"({r.bytes_copied} bytes), {r.packs_reused} already there, {r.total_bytes} bytes in all, "
          f"{r.seconds:.1f} s" + (f"; {r.deleted} deleted meanwhile" if r.deleted else ""))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from registry.services import backups

    r = backups.restore_backup(get_settings(), args.src, args.force, args.snapshot, progress=_stderr)
    print(f"restored {r.stamp}: {r.templates} templates, {r.packs} packs ({r.bytes} bytes), {r.seconds:.1f} s; "
          "run `registry verify` to check every template")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from registry.services import backups

    report = backups.verify_all(container_from_env(), progress=_stderr)
    for problem in report.problems:
        print(f"{problem.template}: {problem.message}")
    print(f"{report.templates} templates checked, {len(report.problems)} problems", file=sys.stderr)
    return 1 if report.problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="registry", description="Git-backed registry for prompt templates")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API, git smart HTTP and web pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=cores(), metavar="N",
                       help=f"N server processes on one port (default: one per core, {cores()} here)")
    serve.set_defaults(func=cmd_serve)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--email")
    add.add_argument("--admin", action="store_true")
    add.set_defaults(func=cmd_user_add)
    invite = user.add_parser("invite", help="print a single-use invite link to /join for EMAIL (mailed too when "
                                            "REGISTRY_SMTP_URL is set)")
    invite.add_argument("email")
    invite.set_defaults(func=cmd_user_invite)
    reset = user.add_parser("reset-password", help="print a single-use link that sets a new password for NAME")
    reset.add_argument("name")
    reset.set_defaults(func=cmd_user_reset_password)
    for verb, what in (("disable", "no sign-in, every session ends and every token stops working"),
                       ("enable", "undo disable")):
        toggle = user.add_parser(verb, help=f"{verb} a user: {what}")
        toggle.add_argument("name")
        toggle.set_defaults(func=cmd_user_disable, command_name=verb)

    token = sub.add_parser("token", help="manage API tokens").add_subparsers(dest="token_command", required=True)
    create = token.add_parser("create", help="create a token and print it (only once)")
    create.add_argument("user")
    create.add_argument("--scope", choices=["read", "write", "admin"], default="write")
    create.add_argument("--expires-days", type=float)
    create.set_defaults(func=cmd_token_create)
    listing = token.add_parser("list", help="a user's tokens: id, scope, dates, last use (never the token)")
    listing.add_argument("user")
    listing.set_defaults(func=cmd_token_list)
    revoke = token.add_parser("revoke", help="revoke a token: it fails on the very next request")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=cmd_token_revoke)
    rotate = token.add_parser("rotate", help="replace a token by a new one (printed); the old one stops working")
    rotate.add_argument("id", type=int)
    rotate.set_defaults(func=cmd_token_rotate)

    imp = sub.add_parser("import", help="turn each sub-folder holding system.md into a template")
    imp.add_argument("dir")
    imp.add_argument("--owner", required=True)
    imp.add_argument("--keep", metavar="FIELDS", help="comma-separated fields not to guess from the text "
                     "(title, description, tags, useCase, industry): they get neutral defaults")
    _remote_args(imp)
    imp.set_defaults(func=cmd_import)

    check = sub.add_parser("validate", help="the push-time checks on a working tree: `path: message` lines, "
                                             "exit 1 when any")
    check.add_argument("dir", nargs="?", default=".")
    _remote_args(check)
    check.set_defaults(func=cmd_validate)

    worker = sub.add_parser("worker", help="run an RQ worker for the checks (needs REGISTRY_REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="quit when the queues are empty")
    worker.add_argument("--queues", nargs="+", default=["checks", "sandbox", "hooks"],
                        choices=["checks", "sandbox", "hooks"])
    worker.set_defaults(func=cmd_worker)

    checks = sub.add_parser("checks", help="the push checks").add_subparsers(dest="checks_command", required=True)
    requeue = checks.add_parser("requeue", help="hand every owed or missing check to the queue again")
    requeue.set_defaults(func=cmd_checks_requeue)

    database = sub.add_parser("db", help="the metadata database").add_subparsers(dest="db_command", required=True)
    upgrade = database.add_parser("upgrade", help="migrate the schema to the newest revision (serve and worker "
                                                  "do it at start)")
    upgrade.set_defaults(func=cmd_db_upgrade)
    copy = database.add_parser("copy", help="copy all metadata into another database (embedded SQLite to "
                                            "PostgreSQL); the target must be empty")
    copy.add_argument("--to", required=True, help="postgresql://user@host:port/db")
    copy.set_defaults(func=cmd_db_copy)

    reindex = sub.add_parser("reindex", help="rebuild the search index from storage")
    reindex.set_defaults(func=cmd_reindex)

    audit = sub.add_parser("audit", help="events, one per line, oldest first: time actor action template payload")
    audit.add_argument("--template", metavar="OWNER/NAME")
    audit.add_argument("--actor")
    audit.add_argument("--action", help="an action (pull_request.merged) or its family (pull_request)")
    audit.add_argument("--since", metavar="ISO-DATE")
    audit.add_argument("--until", metavar="ISO-DATE")
    audit.add_argument("--limit", type=int, default=1000, help="the newest this many (default 1000)")
    audit.set_defaults(func=cmd_audit)
    backup = sub.add_parser("backup", help="a consistent copy of the metadata, packs and refs while the registry "
                                           "serves; packs already in DEST are not copied again")
    backup.add_argument("dest", help="a directory or s3://bucket/prefix")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="put back the newest backup in SRC (stop the registry first)")
    restore.add_argument("src", help="a directory or s3://bucket/prefix that `registry backup` wrote")
    restore.add_argument("--force", action="store_true", help="restore over a data dir, database or bucket "
                                                              "that already holds a registry")
    restore.add_argument("--snapshot", metavar="STAMP", help="a snapshot other than the newest")
    restore.set_defaults(func=cmd_restore)
    verify = sub.add_parser("verify", help="check every template: refs resolve, git fsck --strict clean, "
                                           "metadata matches refs; exit 1 on any problem")
    verify.set_defaults(func=cmd_verify)
    gc = sub.add_parser("gc", help="repack repos and drop packs no repo names")
    gc.add_argument("--grace-seconds", type=float, default=3600.0,
                    help="keep unnamed packs younger than this (a push may be about to name them)")
    gc.set_defaults(func=cmd_gc)
    return parser


def _remote_args(parser: argparse.ArgumentParser) -> None:
    import os

    parser.add_argument("--remote", metavar="URL", help="a registry's base URL: do it there, through its API")
    parser.add_argument("--token", default=os.environ.get("REGISTRY_TOKEN"),
                        help="API token for --remote (default: $REGISTRY_TOKEN)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        log_format = get_settings().log_format
    except ValidationError:  # reported below, by the command that reads them
        log_format = "text"
    logs.configure(log_format)
    try:
        return args.func(args)
    except (RegistryError, ApiError) as exc:
        print(f"registry: {exc.message}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"registry: bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
