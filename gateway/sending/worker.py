"""The worker: rq's worker on the app's queues, with rq's scheduler (a thread of this
process: :mod:`gateway.sending.scheduler`) and a sweeper.

It runs every job inside the app's context (``gateway worker`` builds the app once), with
the job class that also knows the jobs' older names
(:data:`gateway.services.queue.JOB_CLASS`), so jobs queued before an upgrade still run.
"""

from __future__ import annotations

from flask import Flask
from rq import Queue, SimpleWorker

from config.settings import Settings
from gateway.sending.scheduler import SchedulerThread
from gateway.sending.sweeper import Sweeper, sweep
from gateway.services import queue


def run_worker(app: Flask, *, burst: bool = False) -> None:
    """Work the queues with rq's scheduler, inside the app's context, with a sweeper;
    ``burst``: run the jobs due now, then return."""
    settings: Settings = app.extensions["settings"]
    connection = queue.redis_of(app)
    queues = [
        Queue(queue.queue_name(settings, purpose), connection=connection)
        for purpose in queue.QUEUES
    ]
    with app.app_context():
        sweep(app)
        worker = SimpleWorker(queues, connection=connection, job_class=queue.JOB_CLASS)
        if burst:
            worker.work(burst=True, with_scheduler=True)
            return
        # rq's own scheduler would be a forked child that outlives a killed worker.
        scheduler = SchedulerThread(queues, connection)
        scheduler.start()
        sweeper = Sweeper(app)
        sweeper.start()
        try:
            worker.work(with_scheduler=False)
        finally:
            sweeper.stop()
            scheduler.stop()
