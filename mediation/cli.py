"""Flask commands: ``flask create-admin``, ``import-areas``, ``seed-demo``, ``audit-verify``,
``audit-anchor``, ``check-deadlines``, ``recompute-deadlines``, ``send-reminders``,
``create-api-token`` and ``prune``; ``deliver-webhooks`` is in mediation.webhooks.cli."""

import sys
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from mediation import demo, scale
from mediation.agreements import operations as agreement_ops
from mediation.api import http as api_http
from mediation.api import tokens as api_tokens
from mediation.areas import importer
from mediation.cases import calendar_changes
from mediation.cases import operations as case_ops
from mediation.core import audit, ratelimit
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.sessions import reminders
from mediation.stats import aggregates
from mediation.users import auth
from mediation.users import operations as user_ops
from mediation.users.roles import Role
from mediation.webhooks.cli import deliver_webhooks


def init_app(app) -> None:
    for command in (create_admin, reset_two_factor, import_areas, seed_demo, seed_scale,
                    audit_verify,
                    audit_anchor, check_deadlines, recompute_deadlines,
                    send_reminders, create_api_token, prune):
        app.cli.add_command(command)
    app.cli.add_command(stats_rebuild)
    app.cli.add_command(deliver_webhooks)


@click.command("create-admin")
@click.argument("username")
@click.option("--full-name", prompt="Full name / 姓名", help="The administrator's real name.")
@click.option("--password", prompt="Password / 密码", hide_input=True,
              confirmation_prompt=True, help="At least 12 characters, not a common password.")
@with_appcontext
def create_admin(username: str, full_name: str, password: str) -> None:
    """Create an administrator account."""
    try:
        user = user_ops.create_user(None, username=username, full_name=full_name,
                                    role=Role.ADMIN, password=password,
                                    must_change_password=False)
    except OperationError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Administrator {user.username} created.")


@click.command("reset-two-factor")
@click.argument("username")
@with_appcontext
def reset_two_factor(username: str) -> None:
    """Clear an account's second factor (e.g. the only administrator lost the phone and
    the recovery codes): its logins end, and it sets the factor up at the next login."""
    user = user_ops.find_user(username)
    if user is None:
        raise click.ClickException(f"No account {username!r}.")
    try:
        user_ops.reset_two_factor(None, user)
    except OperationError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"The second factor of {user.username} is reset; it is set up again at the "
               "next login.")


@click.command("import-areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_areas(file: Path) -> None:
    """Load an area tree from CSV (code,name,type,parent_code[,households]): all or nothing."""
    bar = None

    def start(total: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=total, label="Loading areas", file=sys.stderr)
        bar.__enter__()

    try:
        result = importer.import_csv(file.read_bytes(), on_checked=start,
                                     progress=lambda n: bar.update(n))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if not result.ok:
        db.session.rollback()
        for line, message in result.errors:
            click.echo(f"{file.name}:{line}: {message}", err=True)
        raise click.ClickException(
            f"{len(result.errors)} error(s); nothing was loaded. Fix the lines above and run "
            "the import again.")
    db.session.commit()
    click.echo(f"Areas loaded: {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo city and one account per role (idempotent; refused in production)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("seed-demo refuses to run under the production config.")
    created = demo.seed()
    db.session.commit()
    password = current_app.config["DEMO_PASSWORD"]
    click.echo("Demo city ready" + (" (created)." if created else " (already there)."))
    click.echo(f"Demo logins (password for all: {password}):")
    for username, full_name, role in demo.accounts_summary():
        click.echo(f"  {username:<12} {full_name}  {role}")


@click.command("seed-scale")
@click.option("--cases", "count", type=click.IntRange(min=1), required=True,
              help="How many cases: 1000000 for a city's year, more or less.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="The random seed: the same seed makes the same city.")
@click.option("--chunk", type=click.IntRange(min=100), default=20_000, show_default=True,
              help="Cases made and written at a time (memory stays bounded by it).")
@click.option("--codes-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the known access codes go (default: "
                   "instance/scale-access-codes.csv).")
@with_appcontext
def seed_scale(count: int, seed: int, chunk: int, codes_file: Path | None) -> None:
    """Load a city-sized synthetic database in bulk, for benchmarks (refused in production and
    on a database that has cases). Its accounts: scale-admin, scale-coordinator,
    scale-mediator, scale-gridworker, scale-staff-1 … scale-staff-60 (password DEMO_PASSWORD)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("seed-scale refuses to run under the production config.")
    problem = scale.refusal()
    if problem:
        raise click.ClickException(problem)
    with click.progressbar(length=count, label="Cases", file=sys.stderr) as bar:
        report = scale.seed(count, seed=seed, chunk=chunk, codes_file=codes_file,
                            progress=bar.update, log=lambda line: click.echo(line, err=True))
    click.echo("States: " + ", ".join(f"{state} {n:,}" for state, n in report.states.items()))
    click.echo(f"Access codes of {report.counts.get('access_codes', 0):,} parties: "
               f"{report.access_codes}")
    click.echo(report.summary())


@click.command("audit-verify")
@click.option("--anchors", "anchor_file", type=click.Path(dir_okay=False), default=None,
              help="Anchors to check against (default: AUDIT_ANCHOR_FILE); a syslog export "
                   "reads too.")
@with_appcontext
def audit_verify(anchor_file: str | None) -> None:
    """Check the audit log's signed chain and every anchor; exit 1 and say what is wrong."""
    anchor_file = anchor_file or current_app.config["AUDIT_ANCHOR_FILE"]
    try:
        with open(anchor_file, encoding="utf-8", errors="replace") as handle:
            anchors, problems = audit.read_anchors(handle)
    except FileNotFoundError:
        anchors, problems = [], []
    except OSError as error:
        click.echo(_("Could not read the anchor file %(file)s: %(error)s",
                     file=anchor_file, error=error.strerror or error), err=True)
        raise SystemExit(1) from None
    report = audit.verify_chain(anchors=anchors)
    problems = sorted([*problems, *report.anchor_problems], key=lambda p: p.line)
    if report.broken_id is not None:
        click.echo(_chain_message(report), err=True)
    for problem in problems:
        click.echo(_anchor_message(problem), err=True)
    if report.broken_id is not None or problems:
        click.echo(_("Audit log verification FAILED."), err=True)
        raise SystemExit(1)
    click.echo(_("Audit log intact: %(n)d entries, last #%(id)d, head %(head)s.",
                 n=report.checked, id=report.head_id, head=report.head))
    if report.unkeyed:
        click.echo(_("%(n)d of them were written before AUDIT_KEY (plain SHA-256): the first "
                     "signed entry after them and the anchors keep them from change.",
                     n=report.unkeyed))
    if anchors:
        click.echo(_("All %(n)d anchors in %(file)s match the log.",
                     n=len(anchors), file=anchor_file))
        return
    click.echo(_("No anchors in %(file)s: without them a removed end of the log cannot be "
                 "found. Run “flask audit-anchor” from cron.", file=anchor_file))
    # An empty log without anchors is a fresh install; entries without any, in production,
    # mean the cron job is missing (or its file was removed): the end of the log is unguarded.
    if report.total and current_app.config["ENV_NAME"] == "production":
        click.echo(_("In production the anchors are required: audit log verification FAILED."),
                   err=True)
        raise SystemExit(1)


def _chain_message(report: audit.ChainReport) -> str:
    if report.reason == "unsigned":
        return _("The audit log has %(n)d entries but not one signed with AUDIT_KEY, not even "
                 "the marker the upgrade that brought the key writes: it was rewritten without "
                 "the audit key.", n=report.total)
    reasons = {
        "link": _("it does not link to the entry before it (an entry was removed or "
                  "reordered)"),
        "content": _("its content does not match its signature (the entry was edited, or "
                     "rewritten without the audit key)"),
        "downgrade": _("it is unsigned but follows signed entries (the log was rewritten "
                       "without the audit key)"),
        "scheme": _("its hash scheme is unknown"),
        "unmarked": _("it is the first signed entry but not the marker the upgrade wrote (the "
                      "log before it was rewritten without the audit key)"),
    }
    return _("Audit log broken at entry #%(id)d: %(reason)s. The %(n)d entries before it are "
             "intact.", id=report.broken_id, reason=reasons[report.reason], n=report.checked)


def _anchor_message(problem: audit.AnchorProblem) -> str:
    anchor = problem.anchor
    if problem.kind == "unreadable":
        return _("Anchor line %(line)d cannot be read as an anchor.", line=problem.line)
    if problem.kind == "forged":
        return _("Anchor line %(line)d has a bad signature: it was forged or altered.",
                 line=problem.line)
    if problem.kind == "mismatch":
        return _("Entry #%(id)d differs from the anchor of %(at)s (line %(line)d): the log was "
                 "rewritten up to it.", id=problem.entry_id, at=anchor.at, line=problem.line)
    if problem.kind == "count":
        return _("The anchor of %(at)s (line %(line)d) counted %(count)d entries up to "
                 "#%(id)d; the log now has %(now)d: entries before it were removed.",
                 at=anchor.at, line=problem.line, count=anchor.count, id=problem.entry_id,
                 now=problem.total)
    if problem.kind == "missing":
        return _("Entry #%(id)d, anchored at %(at)s (line %(line)d), is gone from the log.",
                 id=problem.entry_id, at=anchor.at, line=problem.line)
    return _("The end of the audit log was removed: the anchor of %(at)s (line %(line)d) "
             "recorded %(count)d entries up to #%(last)d, but the log now ends at #%(head)d "
             "with %(now)d entries. Missing: #%(first)d to #%(last)d.",
             at=anchor.at, line=problem.line, count=anchor.count, last=anchor.last_id,
             head=problem.head_id, now=problem.total, first=problem.head_id + 1)


@click.command("audit-anchor")
@with_appcontext
def audit_anchor() -> None:
    """Append the signed head of the audit log outside the database (for cron)."""
    anchor = audit.make_anchor()
    path = current_app.config["AUDIT_ANCHOR_FILE"]
    address = current_app.config.get("AUDIT_ANCHOR_SYSLOG")
    try:
        audit.write_anchor(anchor, path, address)
    except OSError as error:
        raise click.ClickException(_("Could not write the anchor: %(error)s",
                                     error=error)) from None
    click.echo(_("Anchor written to %(file)s: %(n)d entries up to #%(id)d, head %(head)s, "
                 "at %(at)s.", file=path, n=anchor.count, id=anchor.last_id, head=anchor.hash,
                 at=anchor.at))
    if address:
        click.echo(_("Also sent to syslog at %(address)s.", address=address))


@click.command("recompute-deadlines")
@click.argument("year", type=click.IntRange(2000, 2100))
@with_appcontext
def recompute_deadlines(year: int) -> None:
    """Recompute the open cases' deadlines that reach YEAR from the rules and the calendar
    as they are now: run once after upgrading chinesecalendar to a release that brings
    YEAR's official schedule (changes made on the holidays page recompute by themselves)."""
    with calendar_changes.calendar_change(
            None, date(year, 1, 1), date(year, 12, 31),
            _("the holiday calendar for %(year)d updated", year=year),
            from_stored=True) as report:
        pass
    db.session.commit()
    click.echo(f"{year}: {report.moved} cases' deadlines moved, {report.withdrawn} proposals "
               f"or notices withdrawn, {report.noted} confirmed proposals noted.")


@click.command("check-deadlines")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Check as of this day (default: today in China).")
@click.option("--batch-size", type=click.IntRange(1, 10000),
              default=case_ops.DEADLINE_BATCH, show_default=True,
              help="Cases (and agreement terms) checked and committed at a time.")
@with_appcontext
def check_deadlines(on, batch_size: int) -> None:
    """Raise escalation proposals and supervision notices for overdue cases, and follow-ups
    for overdue agreement terms (for cron).

    Safe to run as often as you like: what was raised before is not raised again. Each
    batch is committed as it is done, so a run that stops half-way keeps its work and the
    next run finishes the rest.
    """
    day = on.date() if on else None
    with _batch_progress(case_ops.open_case_count(), "Checking open cases") as done:
        report = case_ops.check_deadlines(
            day, batch_size=batch_size, after_batch=lambda r: done(r.checked))
    with _batch_progress(agreement_ops.terms_to_check(day), "Checking agreement terms") as done:
        overdue_terms = agreement_ops.check_performance(
            day, batch_size=batch_size, after_batch=done)
    click.echo(f"Checked {report.checked} open cases: {report.proposals} new escalation "
               f"proposals, {report.notices} new supervision notices; {overdue_terms} "
               f"agreement terms newly overdue.")


@contextmanager
def _batch_progress(total: int, label: str):
    """Commit each finished batch, with a progress bar on stderr; yields ``done(how many gone
    through so far)``. Memory stays flat without emptying the session (which would detach
    the objects of whoever runs the command in-process, as the tests do): once committed,
    a batch's objects are held only by the session's weak identity map and go with it."""
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        def done(position: int) -> None:
            db.session.commit()
            bar.update(position - bar.pos)

        yield done
        db.session.commit()
        bar.update(total - bar.pos)


@click.command("send-reminders")
@click.option("--list-sms", is_flag=True,
              help="Print the due text messages as CSV (recipient,due_at,text) for the SMS "
                   "gateway instead of sending email.")
@click.option("--mark-sent", is_flag=True,
              help="With --list-sms: record the listed messages as sent.")
@click.option("--max-attempts", type=click.IntRange(min=1), default=5, show_default=True,
              help="Give an email up after this many failed attempts.")
@with_appcontext
def send_reminders(list_sms: bool, mark_sent: bool, max_attempts: int) -> None:
    """Send the due session reminders and cancellations by email (for cron).

    Safe to run as often as you like, even twice at once: nothing is sent twice.
    """
    if mark_sent and not list_sms:
        raise click.UsageError("--mark-sent goes with --list-sms.")
    if list_sms:
        messages = reminders.due_sms(lock=mark_sent)
        click.echo(reminders.sms_csv(messages), nl=False)
        if mark_sent:
            reminders.mark_exported(messages)
            db.session.commit()
            click.echo(f"{len(messages)} text messages marked sent.", err=True)
        else:
            db.session.rollback()
        return
    counts = reminders.send_due(max_attempts=max_attempts)
    click.echo(f"Reminders: {counts['sent']} sent, {counts['retrying']} to retry, "
               f"{counts['failed']} failed.")
    if counts["sms_waiting"]:
        click.echo(f"{counts['sms_waiting']} text messages wait for the SMS gateway: "
                   "flask send-reminders --list-sms --mark-sent")
    if counts["email_waiting"]:
        click.echo(f"{counts['email_waiting']} emails wait: MAIL_SERVER is not set.")


@click.command("create-api-token")
@click.argument("username")
@click.option("--name", required=True, help="What uses the token, e.g. '12345 hotline'.")
@click.option("--days", type=click.IntRange(min=1, max=api_tokens.MAX_DAYS), default=365,
              show_default=True, help="How long it is valid.")
@with_appcontext
def create_api_token(username: str, name: str, days: int) -> None:
    """Create an API token for an account and print it (once: only its hash is kept)."""
    user = user_ops.find_user(username)
    if user is None:
        raise click.ClickException(f"No account {username!r}.")
    try:
        token, secret = api_tokens.create_token(None, user, name, days)
    except OperationError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Token {token.name!r} for {user.username}, valid until "
               f"{token.expires_at:%Y-%m-%d}. Copy it now, it is not shown again:", err=True)
    click.echo(secret)


@click.command("prune")
@with_appcontext
def prune() -> None:
    """Forget ended logins older than LOGIN_RECORD_DAYS, Idempotency-Key replies older
    than IDEMPOTENCY_KEY_DAYS and rate-limit counters of ended windows (for cron, nightly).
    The audit log is never pruned."""
    now = utcnow()
    config = current_app.config
    logins = auth.prune_sessions(now - timedelta(days=config["LOGIN_RECORD_DAYS"]))
    replies = api_http.prune_replies(now - timedelta(days=config["IDEMPOTENCY_KEY_DAYS"]))
    counters = ratelimit.prune_counters(now)
    db.session.commit()
    click.echo(f"Removed {logins} ended logins and {replies} idempotency replies.")
    click.echo(f"Removed {counters} expired rate-limit counters.")


@click.command("stats-rebuild")
@with_appcontext
def stats_rebuild() -> None:
    """Count the statistics' kept monthly figures again from the cases (after a bulk load
    or a restore; the database keeps them current otherwise)."""
    written = aggregates.rebuild()
    db.session.commit()
    for table, rows in written.items():
        click.echo(f"{table}: {rows} rows.")
