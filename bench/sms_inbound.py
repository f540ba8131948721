"""Benchmark: inbound SMS replies served by gunicorn against PostgreSQL.

Each request is a respondent's signed answer: signature check, open-survey lookup, engine
step, answer write, TwiML reply. Compared, in the same run, with bench/bare_app.py (same
form parsed, same kind of TwiML, nothing else) under the same load. The load is wrk
replaying pre-signed posts (bench/loadgen.py): at each concurrency level, for each of
``--runs`` runs, a fresh set of respondents, each with a survey already texted to them,
answers its six questions in order, in waves of 200 respondents or four times the
concurrency, whichever is more (see ``replies``).
Loopback only; bounded in time.

The bare endpoint always runs on 2 sync workers (the baseline); the gateway runs under
config/gunicorn.conf.py (its worker settings and hooks) unless ``--gateway-workers``,
``--gateway-worker-class`` or ``--gateway-threads`` say otherwise; ``--bare-as-gateway``
also measures the bare endpoint under the gateway's settings (a second ratio).

    .venv/bin/python bench/sms_inbound.py [--levels 50 200] [--runs 3] [--seconds 12]

Needs wrk and PostgreSQL (TEST_POSTGRES_URL, default postgres@127.0.0.1:5432/test); a
throwaway database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import cast

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from config.settings import Settings  # noqa: E402
from gateway.agencies.keys import create_api_key, ensure_agency  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.store.db import db_of  # noqa: E402
from gateway.store.models import Message, Survey  # noqa: E402
from gateway.store.sealing import contact_hash, seal  # noqa: E402
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402

QUESTIONS = 6
#: Respondents answering together (see :func:`replies`), at least: four times the
#: connections (:func:`wave_for`), so that no respondent has two replies in flight at once.
WAVE = 200


def wave_for(connections: int) -> int:
    """The wave of respondents (or calls) for a load of ``connections`` at once."""
    return max(WAVE, 4 * connections)


TEMPLATE_NUMBER = "+12025550199"


def seed_template(database_url: str) -> str:
    """One survey started through the API (its opening text sent, simulated); its id."""
    settings = Settings(
        database_url=database_url,
        secret_key="bench",
        secret_key_generated=False,
        flows_dir=ROOT / "bench/flows",
        public_base_url=loadgen.PUBLIC,
    )
    app = create_app(settings, {"TESTING": True})
    with db_of(app).session() as session:
        _row, key = create_api_key(session, ensure_agency(session, "bench"), "bench")
    response = app.test_client().post(
        "/api/v1/surveys",
        headers={"Authorization": f"Bearer {key}"},
        json={"flow": "bench-survey", "channel": "sms", "to": TEMPLATE_NUMBER},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    db_of(app).dispose()
    survey_id: str = response.get_json()["id"]
    return survey_id


def clone_surveys(engine: sa.Engine, template: str, tag: str, count: int) -> list[str]:
    """``count`` copies of the template survey (and its opening text), each for a number of
    its own; returns the numbers. A bulk copy: starting each through the API takes minutes.
    Each copy's number is sealed and hashed here, as the gateway stores it (the keys are
    the ones :func:`seed_template`'s app installed: the same secret as the gateway's)."""
    surveys = cast(sa.Table, Survey.__table__)
    messages = cast(sa.Table, Message.__table__)
    numbers = [f"+1{tag}{n:07d}" for n in range(1, count + 1)]
    clones = sa.Table(
        f"bench_clones_{tag}",
        sa.MetaData(),
        sa.Column("g", sa.Integer),
        sa.Column("id", sa.Text),
        sa.Column("sealed", sa.Text),
        sa.Column("hashed", sa.Text),
        prefixes=["TEMPORARY"],
    )
    rows = [
        {"g": g, "id": f"sv_{tag}_{g:07d}", "sealed": seal(number), "hashed": contact_hash(number)}
        for g, number in enumerate(numbers, start=1)
    ]
    replaced = {"id": clones.c.id, "contact": clones.c.sealed, "contact_hash": clones.c.hashed}
    columns = list(surveys.columns)
    select = (
        sa.select(*[replaced.get(c.name, c) for c in columns])
        .select_from(surveys)
        .join(clones, sa.true())
        .where(surveys.c.id == template)
    )
    message_columns = [c for c in messages.columns if c.name != "id"]
    message_values = {
        "survey_id": clones.c.id,
        "to_addr": clones.c.sealed,
        "contact_hash": clones.c.hashed,
        "provider_sid": messages.c.provider_sid + sa.literal(f"_{tag}_") + clones.c.id,
        "step_key": clones.c.id + sa.literal(":") + sa.func.split_part(messages.c.step_key, ":", 2),
    }
    message_select = (
        sa.select(*[message_values.get(c.name, c) for c in message_columns])
        .select_from(messages)
        .join(clones, sa.true())
        .where(messages.c.survey_id == template)
    )
    with engine.begin() as conn:
        clones.create(conn)
        conn.execute(clones.insert(), rows)
        conn.execute(surveys.insert().from_select([c.name for c in columns], select))
        conn.execute(
            messages.insert().from_select([c.name for c in message_columns], message_select)
        )
        clones.drop(conn)
    return numbers


def _cpu_seconds(pid: int | str) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 once it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_seconds(database_url: str) -> float:
    """CPU seconds the PostgreSQL processes serving ``database_url``'s database have used so
    far (the server runs on this machine: the benchmarks use loopback)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            pids = conn.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
    finally:
        engine.dispose()
    return sum(_cpu_seconds(pid) for pid in pids)


def server_seconds(url: str) -> float:
    """CPU seconds the gunicorn serving ``url`` (its master and workers) has used so far."""
    bind = f"127.0.0.1:{url.rsplit(':', 1)[1]}".encode()
    masters = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and bind in (entry / "cmdline").read_bytes().split(b"\0"):
                masters.append(int(entry.name))
        except OSError:
            continue
    if not masters:
        return 0.0
    master = min(masters)
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return _cpu_seconds(master) + sum(_cpu_seconds(pid) for pid in children)


def replies(numbers: list[str], wave: int = WAVE) -> list[tuple[str, dict[str, str]]]:
    """Every respondent's answers, in waves of ``wave`` respondents: each wave answers
    its first question, round-robin, then its second, and so on to its sixth, before the
    next wave starts. Any stretch of the load is then a whole survey's mix of replies
    (the first answer starts the survey, the last completes it, the rest only record an
    answer), whatever share of the file a run gets through; and one respondent's
    consecutive replies are ``wave`` requests apart, never in flight together."""
    posts = []
    for start in range(0, len(numbers), wave):
        for k in range(QUESTIONS):
            for number in numbers[start : start + wave]:
                sid = "SM" + secrets.token_hex(16)
                posts.append(
                    (
                        "/twilio/sms",
                        {
                            "ToCountry": "US",
                            "SmsMessageSid": sid,
                            "NumMedia": "0",
                            "SmsSid": sid,
                            "SmsStatus": "received",
                            "Body": str(k % 5 + 1),
                            "To": "+12025550100",
                            "NumSegments": "1",
                            "MessageSid": sid,
                            "AccountSid": "AC" + "0" * 32,
                            "From": number,
                            "ApiVersion": "2010-04-01",
                        },
                    )
                )
    return posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--respondents", type=int, default=3000, help="per run (six replies each)")
    parser.add_argument("--wrk-cpu", type=int, default=None, help="pin wrk to this CPU")
    loadgen.add_worker_flags(parser)
    args = parser.parse_args()
    workers = loadgen.gateway_workers(args)

    with loadgen.throwaway_database() as database_url, loadgen.scratch_dir() as tmp:
        template = seed_template(database_url)
        engine = sa.create_engine(database_url)
        env = loadgen.gateway_env(database_url, ROOT / "bench/flows")
        # The gateway (and the bare endpoint under its settings) runs under the deployed
        # config file.
        deployed = loadgen.deployed(env)
        with ExitStack() as servers:
            gateway = servers.enter_context(
                loadgen.gunicorn(
                    "gateway.app:create_app()", deployed, Path(tmp) / "gateway.log", workers
                )
            )
            bare = servers.enter_context(
                loadgen.gunicorn("bench.bare_app:app", env, Path(tmp) / "bare.log")
            )
            bare_alike = (
                servers.enter_context(
                    loadgen.gunicorn(
                        "bench.bare_app:app", deployed, Path(tmp) / "bare2.log", workers
                    )
                )
                if args.bare_as_gateway
                else None
            )
            print(
                f"SMS replies; PostgreSQL; gunicorn: gateway {workers}, bare {loadgen.BARE}; "
                f"wrk 1 thread, {args.seconds} s per run, median of {args.runs}; "
                f"{args.respondents} new respondents x {QUESTIONS} replies per run"
            )
            for level_index, level in enumerate(args.levels):
                gateway_runs, bare_runs, alike_runs = [], [], []
                bare_cpu: list[float] = []
                gateway_cpu: list[float] = []
                database_cpu: list[float] = []
                for run in range(args.runs):
                    tag = f"{3 + level_index}{run}{secrets.randbelow(10)}"
                    numbers = clone_surveys(engine, template, tag, args.respondents)
                    file = Path(tmp) / f"sms-{level}-{run}.txt"
                    count = loadgen.write_requests(
                        file, replies(numbers, wave_for(level)), DEVELOPMENT_AUTH_TOKEN
                    )
                    bare_used = server_seconds(bare)
                    bare_runs.append(
                        loadgen.wrk(
                            bare, file, connections=level, seconds=args.seconds, cpu=args.wrk_cpu
                        )
                    )
                    bare_cpu.append((server_seconds(bare) - bare_used) / bare_runs[-1].requests)
                    if bare_alike is not None:
                        alike_runs.append(
                            loadgen.wrk(
                                bare_alike,
                                file,
                                connections=level,
                                seconds=args.seconds,
                                cpu=args.wrk_cpu,
                            )
                        )
                    used = (server_seconds(gateway), backend_seconds(database_url))
                    gateway_runs.append(
                        loadgen.wrk(
                            gateway,
                            file,
                            connections=level,
                            seconds=args.seconds,
                            cpu=args.wrk_cpu,
                            available=count,
                        )
                    )
                    served = gateway_runs[-1].requests
                    gateway_cpu.append((server_seconds(gateway) - used[0]) / served)
                    database_cpu.append((backend_seconds(database_url) - used[1]) / served)
                bare_figures = loadgen.median_of(bare_runs)
                gateway_figures = loadgen.median_of(gateway_runs)
                print(f"{level} concurrent respondents:")
                print(loadgen.row("bare", bare_figures))
                print(loadgen.row("gateway", gateway_figures))
                print(f"  throughput gateway/bare = {gateway_figures.rps / bare_figures.rps:.2f}")
                print(
                    "  CPU per request (medians): gateway's gunicorn "
                    f"{statistics.median(gateway_cpu) * 1000:.2f} ms + PostgreSQL "
                    f"{statistics.median(database_cpu) * 1000:.2f} ms; bare's gunicorn "
                    f"{statistics.median(bare_cpu) * 1000:.2f} ms; load average "
                    f"{os.getloadavg()[0]:.1f}"
                )
                if alike_runs:
                    alike = loadgen.median_of(alike_runs)
                    print(loadgen.row("bare-alike", alike) + f"  ({workers})")
                    print(
                        f"  throughput gateway/bare-alike = {gateway_figures.rps / alike.rps:.2f}"
                    )
            with engine.connect() as conn:
                answers = conn.scalar(sa.text("SELECT count(*) FROM answers"))
                completed = conn.scalar(
                    sa.text("SELECT count(*) FROM surveys WHERE status = 'completed'")
                )
                updated, in_place = conn.execute(
                    sa.text(
                        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                        "WHERE relname = 'surveys'"
                    )
                ).one()
            print(f"stored: {answers} answers, {completed} surveys completed")
            print(
                f"survey updates in place (HOT): {in_place} of {updated} "
                "(PostgreSQL's statistics, reported within a second or so)"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
