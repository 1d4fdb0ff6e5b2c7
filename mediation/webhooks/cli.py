"""``flask deliver-webhooks``: send the due deliveries (cron, every minute), or keep sending
(``--loop``, a long-running worker)."""

import signal
import time
from datetime import timedelta

import click
from flask.cli import with_appcontext

from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.webhooks import delivery

# A worker prunes the log this often; a cron run prunes each time (it is one DELETE).
PRUNE_EVERY = timedelta(hours=1)


@click.command("deliver-webhooks")
@click.option("--loop", is_flag=True,
              help="Keep running: look for due deliveries every --interval seconds (stop "
                   "with SIGTERM or Ctrl-C; the delivery being posted is finished first).")
@click.option("--interval", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="With --loop: seconds between looks when nothing is due.")
@click.option("--keep-days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Forget deliveries delivered or given up more than this many days ago.")
@click.option("--verbose", "-v", is_flag=True,
              help="Say what each run did, also when every delivery went through.")
@with_appcontext
def deliver_webhooks(loop: bool, interval: float, keep_days: int, verbose: bool) -> None:
    """Post the due webhook deliveries, signed, retrying failures with back-off (cron-safe:
    two runs at once never post the same delivery). Quiet unless a delivery failed (cron
    mails what it prints) or --verbose."""
    stopping = []
    if loop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stopping.append(True))
    pruned_at = None
    while not stopping:
        report = delivery.deliver_due(stop=lambda: bool(stopping))
        if verbose or report.retrying or report.given_up:
            click.echo(f"Webhooks: {report.delivered} delivered, {report.retrying} to retry, "
                       f"{report.given_up} given up.")
        for name in report.paused:
            click.echo(f"Paused after repeated failures: {name} (resume it on the admin "
                       "page once it answers again).", err=True)
        if pruned_at is None or utcnow() - pruned_at >= PRUNE_EVERY:
            pruned_at = utcnow()
            deliveries, events = delivery.prune(pruned_at - timedelta(days=keep_days))
            db.session.commit()
            if verbose and (deliveries or events):
                click.echo(f"Pruned {deliveries} old deliveries and {events} events.")
        if not loop:
            return
        _sleep(interval, stopping)


def _sleep(seconds: float, stopping: list) -> None:
    """Wait, waking early when told to stop."""
    until = time.monotonic() + seconds
    while not stopping and time.monotonic() < until:
        time.sleep(max(0.0, min(0.5, until - time.monotonic())))
