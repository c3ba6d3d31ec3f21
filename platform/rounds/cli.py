"""The ``rounds`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rounds.definitions.loader import content_hash, load_documents
from rounds.definitions.validation import validate
from rounds.errors import InvalidInput, Problem, RoundsError
from rounds.extensions import ExtensionError, activate_from
from rounds.logs import mask_text
from rounds.settings import Settings, load_settings


def _print_problems(problems: Sequence[Problem]) -> None:
    for p in problems:
        print(f"{p.source or '-'}:{p.pointer or '/'}: {p.message} [{p.code}]")


def definition_paths(settings: Settings, given: Sequence[str] = ()) -> list[Path]:
    """The files or folders named, else the definitions folder and the enabled extensions'."""
    return [Path(p) for p in given] or [settings.definitions_dir,
                                        *activate_from(settings).definition_dirs()]


def cmd_validate(settings: Settings, args: argparse.Namespace) -> int:
    paths = definition_paths(settings, args.paths)
    docs, problems = load_documents(paths)
    problems += validate(docs)
    if problems:
        _print_problems(problems)
        files = len({p.source for p in problems})
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
              f"file{'s' if files != 1 else ''} ({len(docs)} definitions read)", file=sys.stderr)
        return 1
    by_kind: dict[str, int] = {}
    for d in docs:
        by_kind[d.kind or "?"] = by_kind.get(d.kind or "?", 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))
    print(f"ok: {len(docs)} definitions valid ({summary})")
    return 0


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    docs, _ = load_documents(definition_paths(settings, args.path))
    found = [d for d in docs if d.id == args.id]
    if not found:
        known = ", ".join(sorted(d.id for d in docs if d.id))
        print(f"no definition {args.id!r}; known: {known}", file=sys.stderr)
        return 1
    doc = found[0]
    print(f"# {doc.kind} {doc.id} from {doc.source}, version sha256:{content_hash(doc.content)}",
          file=sys.stderr)
    print(json.dumps(doc.content, ensure_ascii=False, indent=2))
    return 0


async def _with_store(settings: Settings, work: Any) -> Any:
    from rounds.db import create_engine, session_factory, transaction
    from rounds.migrate import upgrade

    await asyncio.to_thread(upgrade, settings.database_url,
                            extensions=activate_from(settings))
    engine = create_engine(settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    from rounds.runtime.definitions import service

    docs, problems = load_documents(definition_paths(settings, args.path))
    if problems:
        _print_problems(problems)
        return 1
    try:
        report = asyncio.run(_with_store(
            settings, lambda s: service.sync(s, docs, publish=not args.draft)))
    except RoundsError as exc:
        _print_problems(exc.problems)
        print(f"nothing imported: {exc.detail}", file=sys.stderr)
        return 1
    for def_id, number, digest in report.created:
        print(f"{def_id}: version {number} ({'draft' if args.draft else 'published'}, "
              f"sha256:{digest[:12]})")
    for def_id, number, digest in report.restored:
        print(f"{def_id}: version {number} is current again (sha256:{digest[:12]})")
    restored = f", {len(report.restored)} restored" if report.restored else ""
    print(f"{len(report.created)} new{restored}, {len(report.unchanged)} unchanged")
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from rounds.migrate import upgrade

    active = activate_from(settings)
    upgrade(settings.database_url, extensions=active)
    more = f" (and the extensions {', '.join(active.names)})" if active.names else ""
    print(f"database at head{more}: {mask_text(settings.database_url)}")
    return 0


def _serve(settings: Settings, args: argparse.Namespace, on_shutdown: Sequence[Any] = (),
           workers: int = 1) -> None:
    import uvicorn

    from rounds.app import create_app

    host = args.host or settings.server.host
    port = args.port or settings.server.port
    if workers > 1:
        _serve_processes(settings, host, port, workers)
        return
    app = create_app(settings)
    app.on_shutdown.extend(on_shutdown)
    print(f"Rounds on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    # Our logging (rounds.logs, set up by create_app), and our access line with the request id.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                timeout_graceful_shutdown=settings.server.drain_seconds)


def _serve_processes(settings: Settings, host: str, port: int, workers: int) -> None:
    """``workers`` API processes on one port (uvicorn's supervisor: it restarts one that dies
    and, on SIGTERM or SIGINT, stops them all gracefully, then exits)."""
    import uvicorn

    from rounds.logs import configure_logging

    # The supervising process never makes an app: its own lines (processes started and
    # stopped) in our format too; each API process sets up its own in create_app.
    configure_logging(settings, "api")
    print(f"Rounds on http://{host}:{port}/  ({workers} API processes, live pushes through "
          f"Redis)")
    # Each process makes its own app (``create_app()`` reads the settings from the
    # environment there), so the import string and a factory, not an app object.
    uvicorn.run("rounds.app:create_app", factory=True, workers=workers, host=host, port=port,
                log_config=None, access_log=False,
                timeout_graceful_shutdown=settings.server.drain_seconds)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    workers = args.workers or settings.server.workers
    if workers < 1:
        print(f"--workers: expected 1 or more, got {workers}", file=sys.stderr)
        return 2
    if workers > 1 and not settings.redis.url:
        # Refused rather than warned: in process memory a push made in one process never
        # reaches pages open on another, and nothing else would tell anyone.
        print(f"{workers} API processes need ROUNDS_REDIS_URL: without Redis a live "
              "notification made in one process does not reach pages open on another. Set "
              "ROUNDS_REDIS_URL (docs/operations.md), or run one process (--workers 1).",
              file=sys.stderr)
        return 2
    if workers > 1:
        _serve(settings, args, workers=workers)  # uvicorn's supervisor exits 0 on a signal
        return 0
    from rounds.jobs.supervise import StopRequested, stop_signals_raise

    # uvicorn re-raises SIGTERM after its graceful stop: caught here, so a service manager
    # sees exit 0 (a clean stop), as with `rounds up`.
    with stop_signals_raise(), contextlib.suppress(StopRequested):
        _serve(settings, args)
    return 0


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    """Everything a first start needs on the embedded defaults, then the server.

    Also starts a job worker (with its beat schedule) as a child process unless
    ``--no-worker``: on the embedded default its broker is a SQLite file, nothing to install.
    """
    print(f"==> database {mask_text(settings.database_url)}")
    cmd_db_upgrade(settings, args)
    print(f"==> definitions from {settings.definitions_dir}/")
    args.path, args.draft = [], False
    if cmd_sync(settings, args) != 0:
        return 1
    if getattr(args, "demo", False):
        from rounds.demo.command import demo_if_empty

        demo_if_empty(settings)
    from rounds.jobs.supervise import (
        StopRequested,
        WorkerSupervisor,
        stop_signals_raise,
        stop_this_process,
    )
    from rounds.web.stopping import when_asked_to_stop

    if getattr(args, "no_worker", False):
        with stop_signals_raise(), contextlib.suppress(StopRequested):
            _serve(settings, args)  # a stop by signal exits 0, as with the worker
        return 0

    print(f"==> job worker and schedule (broker {mask_text(settings.broker_url)})")
    # Its own process group (its pool and beat with it); restarted when it exits unasked;
    # too many exits: stop as SIGTERM would (the server drains; the exit code says why).
    worker = WorkerSupervisor(
        [sys.executable, "-m", "rounds.cli", "worker", "--beat", "--concurrency", "1"],
        stop_seconds=settings.server.drain_seconds, give_up=lambda _: stop_this_process())
    # SIGTERM/SIGINT: uvicorn drains the server (live streams end at once) while the worker
    # is stopped (see rounds.web.stopping), then StopRequested lands here. The same signal
    # before the server is up lands here at once. Another one after that: kill the worker.
    with stop_signals_raise(worker.stopping, on_again=worker.kill):
        when_asked_to_stop(worker.stopping)
        try:
            worker.start()
            _serve(settings, args, on_shutdown=[worker.on_shutdown])
        except StopRequested:
            pass
        finally:  # also when the server could not start
            worker.stop()
    if worker.gave_up:
        print(f"rounds up stopped: {worker.gave_up}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Create the demo city and three months of work in an empty database."""
    from rounds.demo.command import demo

    print(f"==> database {mask_text(settings.database_url)}")
    cmd_db_upgrade(settings, args)
    args.path, args.draft = [], False
    if cmd_sync(settings, args) != 0:
        return 1
    demo(settings, scale=args.scale, seed=args.seed)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """A Celery worker for Rounds' jobs (``--beat`` also runs the periodic schedule)."""
    from rounds.jobs.celery_app import create_celery
    from rounds.jobs.schedule import SCHEDULER
    from rounds.logs import celery_logging

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery_logging(settings, "worker")
    app = create_celery(settings)
    argv = ["worker", "--loglevel", args.loglevel or settings.log.level.upper(),
            "--concurrency", str(args.concurrency),
            "--hostname", args.hostname or "rounds@%h"]
    if args.beat:  # the schedule only while it holds the lock in the database
        argv += ["--beat", "--scheduler", SCHEDULER]
    app.worker_main(argv)
    return 0


def cmd_beat(settings: Settings, args: argparse.Namespace) -> int:
    """The periodic schedule alone, beside any number of workers. A second one, on any
    machine, waits while the first holds the schedule (``rounds.jobs.schedule``)."""
    from rounds.jobs.celery_app import create_celery
    from rounds.jobs.schedule import SCHEDULER
    from rounds.logs import celery_logging

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery_logging(settings, "beat")
    app = create_celery(settings)
    app.start(["beat", "--loglevel", args.loglevel or settings.log.level.upper(),
               "--scheduler", SCHEDULER])
    return 0


def _print_row_problems(problems: Sequence[Problem]) -> None:
    for p in problems:
        row, column = p.params.get("row"), p.params.get("column")
        where = f"row {row}" + (f", {column}" if column else "") if row else p.pointer
        print(f"{where}: {p.message} [{p.code}]")


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import org units, users or sites from CSV: every row error, all or nothing."""
    from rounds.runtime.orgs.imports import import_org_units
    from rounds.runtime.people.imports import import_users
    from rounds.runtime.sites.imports import import_sites

    importer = {"org-units": import_org_units, "users": import_users,
                "sites": import_sites}[args.what]
    path = Path(args.file)
    if not path.is_file():
        print(f"no file {path}", file=sys.stderr)
        return 2
    data = path.read_bytes()

    def progress(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    print(f"==> {args.what} from {path}", file=sys.stderr)
    try:
        report = asyncio.run(_with_store(settings, lambda s: importer(
            s, data, skip_bad_rows=args.skip_bad_rows, progress=progress)))
    except RoundsError as exc:
        _print_row_problems(exc.problems)
        print(exc.detail, file=sys.stderr)
        return 1
    for e in report.errors:
        print(f"{e} [{e.code}] (row skipped)")
    skipped = len(report.bad_rows)
    print(f"imported {report.imported} of {report.rows} rows"
          + (f"; {skipped} bad row{'s' if skipped != 1 else ''} skipped" if skipped else ""))
    if report.passwords:
        print("generated passwords (shown this once; hand them over safely):")
        for username, password in report.passwords.items():
            print(f"  {username}\t{password}")
    return 0


def cmd_users_add(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from rounds.runtime.people.service import create_user, generate_password
    from rounds.runtime.sites.models import Site

    password = args.password or generate_password()

    async def work(session: Any) -> Any:
        site_id = None
        if args.site:
            site_id = (await session.execute(select(Site.id).where(Site.code == args.site))
                       ).scalar_one_or_none()
            if site_id is None:
                raise InvalidInput(f"no site {args.site!r}",
                                  [Problem("/site", f"no site {args.site!r}", "unknown_reference")])
        return await create_user(session, username=args.username,
                                 display_name=args.display_name or args.username,
                                 role_id=args.role, org_unit_code=args.org_unit,
                                 password=password, site_id=site_id, phone=args.phone)

    try:
        user = asyncio.run(_with_store(settings, work))
    except RoundsError as exc:
        _print_problems(exc.problems)
        print(f"not created: {exc.detail}", file=sys.stderr)
        return 1
    print(f"user {user.username} ({user.role_id}) created, id {user.id}")
    if not args.password:
        print(f"password (shown this once): {password}")
    return 0


def cmd_plans_generate(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from rounds.runtime.visits.plans import generate_month_plans, month_of, parse_month

    try:
        month = parse_month(args.month) if args.month else month_of(datetime.now(UTC).date())
        r = asyncio.run(_with_store(settings, lambda s: generate_month_plans(s, month)))
    except RoundsError as exc:
        _print_problems(exc.problems)
        print(exc.detail, file=sys.stderr)
        return 1
    print(f"visit plans {r.month}: {r.created} new, {r.updated} changed, {r.removed} removed, "
          f"{r.unchanged} unchanged ({r.people} people)")
    return 0


def _progress_bar(done: int, total: int, day: Any) -> None:
    """``[#####-----] 12/96 2026-11-03`` on one line of stderr, redrawn as it goes."""
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total} {day}", end=end,
          file=sys.stderr, flush=True)


def cmd_rollup(settings: Settings, args: argparse.Namespace) -> int:
    """Rebuild the query store over a range of days (default: first raw data day → today)."""
    import time
    from datetime import date, datetime

    from rounds.db import create_engine, session_factory, utcnow
    from rounds.migrate import upgrade
    from rounds.runtime.store.refresh import rebuild, store_range

    tz = settings.tz
    try:
        first = date.fromisoformat(args.first) if args.first else None
        last = date.fromisoformat(args.last) if args.last else None
    except ValueError as exc:
        print(f"not a date (YYYY-MM-DD): {exc}", file=sys.stderr)
        return 2
    if first is not None and last is not None and last < first:
        print(f"--to {last} is before --from {first}", file=sys.stderr)
        return 2

    async def go() -> Any:
        await asyncio.to_thread(upgrade, settings.database_url,
                                extensions=activate_from(settings))
        engine = create_engine(settings.database_url)
        try:
            sessions = session_factory(engine)
            today = datetime.now(tz).date()
            start, end = await store_range(sessions, tz, today)
            lo, hi = first or min(start, last or start), last or max(end, first or end)
            print(f"==> query store {lo} to {hi} ({settings.timezone})", file=sys.stderr)
            return await rebuild(sessions, lo, hi, tz=tz, now=utcnow(),
                                 progress=_progress_bar)
        finally:
            await engine.dispose()

    started = time.monotonic()
    report = asyncio.run(go())
    print(f"rollup {report.first_day} to {report.last_day}: {len(report.days)} days, "
          f"{report.rows} rows, {len(report.months)} months in "
          f"{time.monotonic() - started:.1f}s")
    return 0


def cmd_okr_recompute(settings: Settings, args: argparse.Namespace) -> int:
    """Grade a period again on purpose, freeze it, record who, when and why; print what
    changed."""
    import getpass
    from datetime import UTC, datetime

    from rounds.runtime.okr.freeze import recompute

    by = args.by or getpass.getuser()
    try:
        reports = asyncio.run(_with_store(settings, lambda s: recompute(
            s, period=args.period, okr_id=args.okr, by=by, reason=args.reason or "",
            now=datetime.now(UTC), tz=settings.tz)))
    except RoundsError as exc:
        _print_problems(exc.problems)
        print(exc.detail, file=sys.stderr)
        return 1
    if not reports:
        print(f"no OKR is graded by the period of {args.period}")
    for r in reports:
        print(f"{r.okr_id} {r.period}: {r.rows} grades, {len(r.changes)} changed, "
              f"{r.notified} notifications (recorded as by {by})")
        for c in r.changes:
            was = "new" if c.before is None else _grade_text(*c.before)
            print(f"  {c.subject_kind} {c.subject_id}: {was} -> {_grade_text(*c.after)}")
    return 0


def _grade_text(score: float | None, grade: str | None) -> str:
    return "no grade" if score is None else f"{score:.3f} {grade}"


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """The readiness checks of ``/api/ready``, one line each for a person; 1 if any fails."""
    from rounds.ops.doctor import doctor

    return doctor(settings)


def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    print(f"data_dir          {settings.data_dir}")
    print(f"definitions_dir   {settings.definitions_dir}")
    print(f"default_language  {settings.default_language}")
    print(f"database.url      {mask_text(settings.database_url)}")
    print(f"server            {settings.server.host}:{settings.server.port}, "
          f"{settings.server.workers} process(es), drain {settings.server.drain_seconds}s")
    print(f"jobs.broker_url   {mask_text(settings.broker_url)}  (reconcile every "
          f"{settings.jobs.reconcile_seconds}s)")
    redis = mask_text(settings.redis.url) if settings.redis.url else \
        "(unset: live pushes in process memory)"
    print(f"redis.url         {redis}")
    per_minute = settings.checks.per_minute
    print(f"checks            {f'{per_minute} a minute per address' if per_minute else 'no limit'}")
    print(f"store             close at {settings.store.close_at} {settings.timezone}, "
          f"refresh every {settings.store.refresh_seconds}s")
    print(f"log               {settings.log.format}, {settings.log.level}")
    token = ", token required" if settings.metrics.token else ""
    print(f"metrics           /metrics from {settings.metrics.allow_from or 'nobody'}{token}; "
          f"counters in {settings.metrics_dir}")
    return 0


def cmd_extensions_list(settings: Settings, args: argparse.Namespace) -> int:
    """Each installed extension: enabled or not, its version and what it contributes."""
    from rounds.extensions import installed, load

    enabled = activate_from(settings).names
    found = installed()
    if not found:
        print("no extension installed")
    for name in sorted(found, key=lambda n: (n not in enabled, n)):
        state = "enabled" if name in enabled else "installed, not enabled"
        try:
            ext = load(name, found[name])
        except ExtensionError as exc:
            print(f"{name}  ({state}): {exc.why}")
            continue
        print(f"{name} {ext.version or '?'}  ({state}): {ext.title.get('en') or name}")
        for part, names in ext.contributes().items():
            print(f"  {part}: {', '.join(names)}")
    print(f"ROUNDS_EXTENSIONS_ENABLED={settings.extensions.enabled}")
    return 0


def cmd_rules_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Evaluate a JsonLogic rule against data, with the enabled extensions' operations."""
    from rounds.errors import RuleError, RuleEvaluationError
    from rounds.rules import compile_rule

    values: list[Any] = []
    for what, raw in (("RULE", args.rule), ("DATA", args.data)):
        try:
            values.append(json.loads(raw))
        except json.JSONDecodeError as exc:
            print(f"{what}: not valid JSON: {exc.msg} at column {exc.colno}", file=sys.stderr)
            return 2
    rule, data = values
    try:
        result = compile_rule(rule)(data)
    except RuleError as exc:
        for p in exc.problems:
            print(f"RULE:{p.pointer or '/'}: {p.message} [{p.code}]", file=sys.stderr)
        n = len(exc.problems)
        print(f"{n} problem{'s' if n != 1 else ''}; operations here: JsonLogic's and "
              f"{', '.join(sorted(_domain_operations()))}", file=sys.stderr)
        return 1
    except RuleEvaluationError as exc:
        print(f"the rule failed while running: {exc.detail}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _domain_operations() -> set[str]:
    from rounds.rules import default_registry

    return default_registry.names()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rounds", description="Rounds: field work to written "
                                "standards, from JSON definitions.")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="migrate, sync definitions, start a worker and serve")
    up.add_argument("--host")
    up.add_argument("--port", type=int)
    up.add_argument("--demo", action="store_true",
                    help="create the demo city first if the database has no org units")
    up.add_argument("--no-worker", action="store_true",
                    help="do not start the job worker (run `rounds worker` yourself)")
    up.set_defaults(fn=cmd_up)

    dm = sub.add_parser("demo", help="create a demo city and three months of work (empty database)")
    dm.add_argument("--scale", type=float, default=1.0,
                    help="multiply retailers and staff (2,000 retailers and 44 staff at 1)")
    dm.add_argument("--seed", type=int, default=7)
    dm.set_defaults(fn=cmd_demo)

    worker = sub.add_parser("worker", help="run a job worker (Celery)")
    worker.add_argument("--beat", action="store_true", help="also run the periodic schedule")
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--loglevel", help="default: ROUNDS_LOG_LEVEL")
    worker.add_argument("--hostname")
    worker.set_defaults(fn=cmd_worker)

    beat = sub.add_parser("beat", help="run the periodic schedule (one per installation)")
    beat.add_argument("--loglevel", help="default: ROUNDS_LOG_LEVEL")
    beat.set_defaults(fn=cmd_beat)

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="API processes (default "
                       "ROUNDS_SERVER_WORKERS, 1); more than one needs ROUNDS_REDIS_URL")
    serve.set_defaults(fn=cmd_serve)

    sub.add_parser("settings", help="print the settings in force").set_defaults(fn=cmd_settings)
    sub.add_parser("doctor", help="check the database, migrations, broker and Redis "
                   "(exit 1 if any fails)").set_defaults(fn=cmd_doctor)

    ex = sub.add_parser("extensions", help="extension modules").add_subparsers(
        dest="extensions", required=True)
    ex.add_parser("list", help="each installed extension, enabled or not, its version and "
                  "what it contributes").set_defaults(fn=cmd_extensions_list)

    rules = sub.add_parser("rules", help="JsonLogic rules").add_subparsers(
        dest="rules", required=True)
    ev = rules.add_parser("eval", help="evaluate a rule against data (with the enabled "
                          "extensions' operations) and print the result as JSON")
    ev.add_argument("rule", metavar="RULE", help='the rule as JSON, e.g. \'{"+": [1, 2]}\'')
    ev.add_argument("data", metavar="DATA", nargs="?", default="{}",
                    help="the data as JSON (default {})")
    ev.set_defaults(fn=cmd_rules_eval)

    db = sub.add_parser("db", help="the SQL store").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(fn=cmd_db_upgrade)

    d = sub.add_parser("definitions", help="JSON definitions").add_subparsers(
        dest="definitions", required=True)
    v = d.add_parser("validate", help="check files; every error at once")
    v.add_argument("paths", nargs="*", help="files or folders (default: the definitions folder)")
    v.set_defaults(fn=cmd_validate)
    s = d.add_parser("show", help="print a definition and its version hash")
    s.add_argument("id")
    s.add_argument("--path", action="append", default=[])
    s.set_defaults(fn=cmd_show)
    y = d.add_parser("sync", help="import the folder: new versions where content changed")
    y.add_argument("--path", action="append", default=[])
    y.add_argument("--draft", action="store_true", help="import as drafts, not published")
    y.set_defaults(fn=cmd_sync)

    imp = sub.add_parser("import", help="import org units, users or sites from CSV "
                         "(all or nothing; every row error)")
    imp.add_argument("what", choices=["org-units", "users", "sites"])
    imp.add_argument("file")
    imp.add_argument("--skip-bad-rows", action="store_true",
                     help="import the good rows and report the bad ones")
    imp.set_defaults(fn=cmd_import)

    users = sub.add_parser("users", help="people").add_subparsers(dest="users", required=True)
    ua = users.add_parser("add", help="create a user")
    ua.add_argument("username")
    ua.add_argument("--role", required=True, help="a role definition's id")
    ua.add_argument("--org-unit", required=True, help="the org unit's code")
    ua.add_argument("--password", help="default: generate one and print it once")
    ua.add_argument("--display-name")
    ua.add_argument("--phone")
    ua.add_argument("--site", help="the shop's code, for a retailer's own account")
    ua.set_defaults(fn=cmd_users_add)

    plans = sub.add_parser("plans", help="monthly visit plans").add_subparsers(
        dest="plans", required=True)
    pg = plans.add_parser("generate", help="bring a month's plans in line with the roles' "
                          "visit targets and the assignments (idempotent)")
    pg.add_argument("--month", help="YYYY-MM (default: this month, UTC)")
    pg.set_defaults(fn=cmd_plans_generate)

    ru = sub.add_parser("rollup", help="rebuild the query store (dashboards' and OKR "
                        "grades' facts) over a range of days, with a progress bar")
    ru.add_argument("--from", dest="first", help="YYYY-MM-DD (default: the first day of "
                    "raw data)")
    ru.add_argument("--to", dest="last", help="YYYY-MM-DD (default: today, company time)")
    ru.set_defaults(fn=cmd_rollup)
    okr = sub.add_parser("okr", help="OKR grades").add_subparsers(dest="okr", required=True)
    rc = okr.add_parser("recompute", help="grade a period that is over again and freeze it "
                        "(recorded: who, when, why); prints what changed")
    rc.add_argument("period", help="2026-11, 2026-Q4, 2026 or 2026-W48")
    rc.add_argument("--okr", help="one OKR's id (default: every OKR graded by such periods)")
    rc.add_argument("--reason", help="why (kept with the record)")
    rc.add_argument("--by", help="who (default: the operating system user)")
    rc.set_defaults(fn=cmd_okr_recompute)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    try:
        activate_from(settings)  # the enabled extensions, before any command uses anything
    except ExtensionError as exc:
        print(f"rounds: {exc} (ROUNDS_EXTENSIONS_ENABLED={settings.extensions.enabled})",
              file=sys.stderr)
        return 2
    code: int = args.fn(settings, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
