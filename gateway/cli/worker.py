"""`gateway worker`: run background jobs from the rq queues on ``REDIS_URL``."""

from __future__ import annotations

import click

from gateway.app import create_app, settings_of
from gateway.sending.worker import run_worker
from gateway.services import queue
from gateway.store.db import db_of


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs due now, then exit.")
def worker_command(burst: bool) -> None:
    """Send surveys' texts, retry failed sends, start scheduled surveys, expire old ones.

    Builds the app once and runs every job inside its context, with rq's scheduler (for
    `send_at` and retries) and the sweeper (stranded and overdue surveys).
    """
    app = create_app()  # configures logging (LOG_FORMAT, LOG_LEVEL)
    settings = settings_of(app)
    if not settings.redis_url:
        raise click.ClickException(
            "REDIS_URL is not set. Set it to the Redis the web app uses "
            "(without it, jobs run inside the web process and no worker is needed)."
        )
    queues = ", ".join(queue.queue_name(settings, purpose) for purpose in queue.QUEUES)
    click.echo(f"gateway worker: queues {queues} on {settings.redis_url.split('@')[-1]}", err=True)
    try:
        run_worker(app, burst=burst)
    finally:
        queue.redis_of(app).close()
        db_of(app).dispose()
