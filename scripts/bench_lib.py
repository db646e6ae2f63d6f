"""What bench_pos.py and bench_api.py share (imported, not run): the Odoo command, the benchmark
server, percentiles, the open-loop load of simulated tills and the count of rows written per call.

Open loop: each till sends its operations at times drawn in advance (Poisson arrivals, or a fixed
interval with a random phase), whatever the server's answers; a till that has not had its previous
answer yet sends the next one as soon as it has (a till is one cashier), and every latency is counted
from the SCHEDULED time, so the queueing in the server (and at the till) is part of it. The same
schedule is played with the "bare mix" (a bare one-record read for each lookup, a bare one-record
write for each other operation), so the two runs differ only in what each call does: the bare mix
first, or with ``--rounds N`` bare, operations, operations, bare... pooled, so that a drift of the
machine's other load favours neither.
"""

import collections
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
ODOO_ROOT = ROOT / ".cache/odoo-root"
PYTHONPATH = ODOO_ROOT / "usr/lib/python3/dist-packages"
PYTHON = ROOT / ".cache/venv/bin/python"
# the package's launcher, not ``python -m odoo``: the prefork master re-executes this path
ODOO_BIN = ODOO_ROOT / "usr/bin/odoo"
ODOO = [str(PYTHON), str(ODOO_BIN)]
CONF = os.environ.get("LP_ODOO_CONF", str(ROOT / ".cache/odoo.conf"))
ENV = dict(os.environ, PYTHONPATH=str(PYTHONPATH))

# the open-loop mix of a till's operations, in percent
MIX = (("lookup", 40), ("stamp", 20), ("earn", 30), ("redeem", 10))
# a call sent this late behind its scheduled time waited for the till's previous answer
LATE_SECONDS = 0.1
# what stands for each operation in the bare mix
BARE = {"lookup": "read", "stamp": "write", "earn": "write", "redeem": "write"}


def template_db():
    """The template database scripts/test.sh builds (``LP_TEMPLATE_DB`` overrides it)."""
    return (
        os.environ.get("LP_TEMPLATE_DB")
        or subprocess.run(
            ["bash", "-c", f"source {ROOT}/scripts/lib.sh && lp_template_name"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )


def odoo(*args, stdin=None):
    """Run an Odoo command (``db``, ``shell``, an install...); its output, or an error with its log."""
    done = subprocess.run([*ODOO, *args], input=stdin, env=ENV, capture_output=True, text=True)
    if done.returncode:
        sys.exit(
            f"odoo {' '.join(args[:3])}... failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done


def shell_output(db, script):
    """Run ``script`` in ``odoo shell`` on ``db``; the words of its ``BENCH ...`` line."""
    out = odoo("shell", "-c", CONF, "-d", db, "--no-http", "--log-level=warn", stdin=script).stdout
    line = next((line for line in out.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        sys.exit(f"the set-up script printed no BENCH line:\n{out[-3000:]}")
    return line[6:]


def start_server(db, port, workers=4, log_path=None):
    """Odoo with ``workers`` workers on ``port`` (``port + 1``: the gevent port), once it answers."""
    log_path = log_path or f"/tmp/lp_bench_{port}.log"
    log = open(log_path, "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [
            *ODOO,
            "server",
            "-c",
            CONF,
            "-d",
            db,
            "--db-filter",
            f"^{db}$",
            "--http-port",
            str(port),
            "--gevent-port",
            str(port + 1),
            "--workers",
            str(workers),
            "--max-cron-threads",
            "0",
            os.environ.get("LP_BENCH_LOG", "--log-level=warn"),
            "--limit-time-real",
            "600",
        ],
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(240):
        if proc.poll() is not None:
            sys.exit(f"the benchmark server stopped at once; see {log_path}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/web/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(proc)
    sys.exit(f"the benchmark server did not start; see {log_path}")


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def pct(values, q):
    """The ``q``-th percentile (nearest rank) of ``values``."""
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def p50_p95(values):
    return statistics.median(values), pct(values, 95)


# ----------------------------------------------------------------------
# Open loop
# ----------------------------------------------------------------------


def schedule(tills, rate, duration, seed=7, fixed=False, mix=MIX):
    """Per till, its ``(seconds from the start, kind)`` arrivals: ``rate`` per second in all,
    ``rate / tills`` per till, kinds drawn from ``mix``."""
    rng = random.Random(seed)
    per_till = rate / tills
    kinds, weights = zip(*mix, strict=True)
    plan = []
    for _till in range(tills):
        arrivals = []
        t = rng.uniform(0, 1 / per_till) if fixed else rng.expovariate(per_till)
        while t < duration:
            arrivals.append((t, rng.choices(kinds, weights)[0]))
            t += 1 / per_till if fixed else rng.expovariate(per_till)
        plan.append(arrivals)
    return plan


def run_open_loop(plan, call):
    """Replay ``plan`` (see ``schedule``), one thread per till; ``call(till, kind, seq)`` makes one
    request and raises on a failure. Returns ``{"latency": {kind: [s]}, "errors": Counter,
    "lag": [s], "wall": s, "done": n}``, latencies from the scheduled times."""
    latency = collections.defaultdict(list)
    errors = collections.Counter()
    lag = []
    lock = threading.Lock()
    start = time.perf_counter() + 1.0  # every thread is waiting by then

    def till_loop(till, arrivals):
        for seq, (offset, kind) in enumerate(arrivals):
            scheduled = start + offset
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            error = None
            try:
                call(till, kind, seq)
            except Exception as e:
                error = f"{type(e).__name__}: {str(e)[:120]}"
            answered = time.perf_counter()
            with lock:
                lag.append(sent - scheduled)
                if error:
                    errors[kind, error] += 1
                else:
                    latency[kind].append(answered - scheduled)

    threads = [threading.Thread(target=till_loop, args=(i, arrivals), daemon=True) for i, arrivals in enumerate(plan)]
    cpu = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    span = max((till[-1][0] for till in plan if till), default=0)
    late = sum(1 for v in lag if v > LATE_SECONDS)
    return {
        "latency": latency,
        "errors": errors,
        "lag": lag,
        "late": late,
        "wall": wall,
        "done": len(lag),
        "client_cpu": cpu,
        "span": span,
        # the last answer came well after the last arrival, or many tills waited for their previous
        # answer: the server (or the machine) did not keep up, and the latencies measure the backlog
        "saturated": wall > span + 2 or late > 0.05 * max(1, len(lag)),
    }


def merge_runs(runs):
    """One result of several ``run_open_loop`` results."""
    merged = {"latency": collections.defaultdict(list), "errors": collections.Counter(), "lag": []}
    for run in runs:
        for kind, values in run["latency"].items():
            merged["latency"][kind].extend(values)
        merged["errors"].update(run["errors"])
        merged["lag"].extend(run["lag"])
    for key in ("late", "wall", "done", "client_cpu", "span"):
        merged[key] = sum(run[key] for run in runs)
    merged["saturated"] = any(run["saturated"] for run in runs)
    return merged


def describe_plan(plan, rate, duration, fixed):
    arrivals = [kind for till in plan for _t, kind in till]
    counts = collections.Counter(arrivals)
    mix = ", ".join(f"{kind} {counts[kind]} ({100 * counts[kind] / max(1, len(arrivals)):.0f} %)" for kind, _w in MIX)
    return (
        f"open loop: {len(plan)} tills, {rate:g} arrivals/s in all ({'fixed interval' if fixed else 'Poisson'}, "
        f"one every {len(plan) / rate:.2f} s per till on average), {duration:g} s: {len(arrivals)} arrivals: {mix}"
    )


def print_open_loop(ops, bare):
    """The two runs side by side: p50/p95/p99 (ms, from the scheduled time) and the ratio of p95s."""

    def row(result, kinds):
        values = [v for kind in kinds for v in result["latency"].get(kind, [])]
        errors = sum(n for (kind, _e), n in result["errors"].items() if kind in kinds)
        if not values:
            return None, f"{0:>6} {'-':>7} {'-':>7} {'-':>7} {errors:>6}"
        p50, p95, p99 = (pct(values, q) * 1000 for q in (50, 95, 99))
        return p95, f"{len(values):>6} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} {errors:>6}"

    head = f"{'calls':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6}"
    print(f"\n{'':<8} {'Loyalty+ operations (ms)':^38}   {'':<6} {'bare mix (ms)':^38}")
    print(f"{'kind':<8} {head}   {'bare':<6} {head}  {'p95/bare p95':>12}")
    for kinds, label in [*(((k,), k) for k, _w in MIX), (tuple(k for k, _w in MIX), "all")]:
        ops95, ops_text = row(ops, kinds)
        bare95, bare_text = row(bare, kinds)
        bare_label = BARE[kinds[0]] if len(kinds) == 1 else "mix"
        ratio = f"{ops95 / bare95:>12.2f}" if ops95 and bare95 else f"{'-':>12}"
        print(f"{label:<8} {ops_text}   {bare_label:<6} {bare_text}  {ratio}")
    for name, result in (("operations", ops), ("bare mix", bare)):
        lag99 = pct(result["lag"], 99) * 1000 if result["lag"] else 0
        late = result["late"]
        print(
            f"{name:<10}: {result['done']} calls in {result['wall']:.1f} s (arrivals over {result['span']:.1f} s); "
            f"p99 wait at the till before sending {lag99:.0f} ms, {late} calls sent over 100 ms late (the till's "
            f"previous call had not returned); the load generator used {result['client_cpu']:.1f} s of CPU "
            f"({100 * result['client_cpu'] / result['wall']:.0f} % of a core)"
        )
        for (kind, error), n in result["errors"].most_common(5):
            print(f"    {n}x {kind}: {error}")
        if result["saturated"]:
            print(
                f"    WARNING: the {name} did not keep up with the arrivals (saturated server or machine): "
                "lower the rate, or free the machine"
            )


def add_open_loop_arguments(parser):
    group = parser.add_argument_group("open loop")
    group.add_argument(
        "--open-loop",
        type=float,
        metavar="RATE",
        help="instead of the back-to-back runs: RATE arrivals per second from --tills tills "
        "(mix: 40%% lookups, 20%% stamps, 30%% earns, 10%% redeems), and the same arrivals of the bare mix",
    )
    group.add_argument(
        "--tills", type=int, default=160, help="simulated tills of the open loop (each on its own cards)"
    )
    group.add_argument("--duration", type=float, default=60, help="seconds of arrivals of each open-loop run")
    group.add_argument("--fixed-interval", action="store_true", help="arrivals at a fixed interval, not Poisson")
    group.add_argument("--seed", type=int, default=7, help="seed of the arrival schedule")
    group.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="runs of each mix, alternated (bare, operations, operations, bare...) and pooled",
    )


def open_loop(args, call_ops, call_bare, warm=None):
    """Run the open-loop comparison of ``args`` (see ``add_open_loop_arguments``):
    ``call_ops(till, kind, seq)`` and ``call_bare(till, kind, seq)`` make one call each."""
    plan = schedule(args.tills, args.open_loop, args.duration, seed=args.seed, fixed=args.fixed_interval)
    print("\n" + describe_plan(plan, args.open_loop, args.duration, args.fixed_interval), flush=True)
    if warm:
        warm()
    runs = {"bare mix": [], "operations": []}
    calls = {"bare mix": call_bare, "operations": call_ops}
    for round_ in range(args.rounds):
        # bare, operations, operations, bare...: a drift of the machine's other load favours neither
        for name in ("bare mix", "operations") if round_ % 2 == 0 else ("operations", "bare mix"):
            result = run_open_loop(plan, calls[name])
            runs[name].append(result)
            print(
                f"round {round_ + 1}/{args.rounds}, {name}: {result['done']} calls, p95 "
                f"{pct([v for values in result['latency'].values() for v in values] or [0], 95) * 1000:.0f} ms",
                flush=True,
            )
            time.sleep(3)
    ops, bare = merge_runs(runs["operations"]), merge_runs(runs["bare mix"])
    print_open_loop(ops, bare)
    return ops, bare


# ----------------------------------------------------------------------
# Rows written per call
# ----------------------------------------------------------------------

# PostgreSQL 15 publishes a backend's table counters at most once a second, and an idle backend's
# within 10 s: wait that long after the calls before reading them
STATS_SETTLE_SECONDS = 11.5


def _table_writes(db):
    with psycopg2.connect(dbname=db) as conn, conn.cursor() as cr:
        cr.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables")
        return {name: (ins, upd, dele) for name, ins, upd, dele in cr.fetchall()}


def count_writes(db, operations, calls=20):
    """Rows each operation inserts, updates and deletes per call, by table (``pg_stat_user_tables``
    deltas over ``calls`` sequential calls; other activity on ``db`` would count too).
    ``operations``: ``{name: call(i)}``. Prints and returns ``{name: {table: (ins, upd, del)}}``."""
    print(
        f"\nrows written per call ({calls} calls each, {STATS_SETTLE_SECONDS:g} s for PostgreSQL's counters "
        f"after each operation): table +inserted ~updated -deleted",
        flush=True,
    )
    time.sleep(STATS_SETTLE_SECONDS)
    before = _table_writes(db)
    found = {}
    for name, op in operations.items():
        for i in range(calls):
            op(i)
        time.sleep(STATS_SETTLE_SECONDS)
        after = _table_writes(db)
        delta = {}
        for table, counts in after.items():
            old = before.get(table, (0, 0, 0))
            diff = tuple(new - prev for new, prev in zip(counts, old, strict=True))
            if any(diff):
                delta[table] = diff
        before = after
        found[name] = delta
        total = sum(sum(d) for d in delta.values()) / calls
        detail = ", ".join(
            f"{table} " + " ".join(f"{sign}{n / calls:g}" for sign, n in zip("+~-", d, strict=True) if n)
            for table, d in sorted(delta.items(), key=lambda item: -sum(item[1]))
        )
        print(f"  {name:<18} {total:>5.2f} rows/call  {detail or 'nothing written'}", flush=True)
    return found
