"""Load benchmark: the real app under gunicorn on loopback, driven by locust (headless, in process).

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python bench/load.py                      # SQLite, 2,000 participants
    .venv/bin/python bench/load.py --db postgres        # PostgreSQL (throwaway cluster), 5,000

Scenarios (pick with --scenarios, comma-separated; all by default):
  throughput  hello-world Flask app vs. answer-save, same gunicorn.conf.py, closed loop, the two
              measured in turns (--windows of --seconds each side);
  steady      participants log in (the real scrypt hash), start, answer every question with
              think-time pauses, submit;
  herd        1,000 logged-in participants press Start within 10 s (a fifth of them twice at once);
              afterwards the database must hold exactly one attempt each;
  rush        participants in an attempt all save their last answers and submit in the last 10 s;
  loginrush   participants save steadily while a burst of scrypt logins arrives; save latency
              before and during the burst.
Prints one table (p50/p95/p99 per endpoint and scenario, errors) and writes it as JSON to
bench/out/. Numbers, not a pass/fail test.
"""

import locust  # noqa: F401  (first: gevent's monkey patching)

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.util  # noqa: E402
import psutil  # noqa: E402
from gevent.event import Event  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpSession  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import PASSWORD, Gunicorn, app_env, free_port, postgres_url, prepare  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


class Participant(FastHttpUser):
    """A person with a browser: log in, then whatever the scenario's journey does."""

    abstract = True
    wait_time = constant(0)
    logins = iter(())
    round_id = 0
    finished = 0
    aborted = 0
    ready = 0
    go = Event()

    def login(self) -> bool:
        self.who = next(self.logins, None)
        if self.who is None:  # locust replaced a participant who left: nobody is left
            raise StopUser()
        token = log_in(self.client, self.who, "login")
        if token is None:
            return False
        self.headers = {"X-CSRFToken": token}
        return True

    def call(self, method: str, path: str, name: str, ok=(200,), **kwargs):
        """One request; a dropped idle keep-alive connection is retried once, as browsers do."""
        for try_ in range(2):
            with self.client.request(
                method, path, name=name, headers=self.headers, catch_response=True, **kwargs
            ) as response:
                if response.status_code == 0 and try_ == 0:
                    response.success()
                    RETRIED[name] += 1
                    continue
                if response.status_code not in ok:
                    response.failure(f"{name} {response.status_code} {response.error or ''}")
                    return None
                return response
        return None

    def start_attempt(self, name: str = "start") -> dict | None:
        path = f"/api/v1/rounds/{self.round_id}/attempts"
        response = self.call("POST", path, name, ok=(200, 201))
        return response.json() if response is not None else None

    def save(self, attempt: dict, question: dict, name: str = "save answer") -> bool:
        choice = [random.choice(question["options"])["id"]]
        path = f"/api/v1/attempts/{attempt['id']}/answers/{question['id']}"
        return self.call("PUT", path, name, json={"option_ids": choice}) is not None

    def submit(self, attempt: dict) -> None:
        self.call("POST", f"/api/v1/attempts/{attempt['id']}/submit", "submit")

    def give_up(self):
        type(self).aborted += 1
        raise StopUser()

    def done(self):
        type(self).finished += 1
        raise StopUser()


BUSY = Counter()  # 503 "many people are logging in" replies, by request name
RETRIED = Counter()  # requests sent again after an idle keep-alive connection was dropped
LOGIN_SECONDS: dict[str, list[float]] = {}  # from the first press to being logged in


def log_in(client, login: str, name: str) -> str | None:
    """Log in as a person would: on 503 wait the Retry-After and press again; the CSRF token."""
    first = time.monotonic()
    for _try in range(30):
        with client.post(
            "/api/v1/login", json={"login": login, "password": PASSWORD}, name=name,
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code == 200:
                LOGIN_SECONDS.setdefault(name, []).append(time.monotonic() - first)
                return response.json()["csrf_token"]
            if response.status_code == 0 and not RETRIED.get(f"{name}:{login}"):
                response.success()  # a dropped idle keep-alive connection: browsers resend
                RETRIED[f"{name}:{login}"] = 1
                RETRIED[name] += 1
                retry = 0.0
            elif response.status_code == 0:
                response.failure(f"login: {response.error}")
                retry = 1.0
            elif response.status_code != 503:
                response.failure(f"login {response.status_code}")
                return None
            else:
                response.success()  # the server said "busy, retry": an answer, not an error
                BUSY[name] += 1
                # Capped: the rate limiter stamps "Retry-After: 3600" on every response; and
                # under gunicorn's 5 s keep-alive, so the retry does not race the closing.
                # Spread over the wait, as people pressing again are: retries exactly on the
                # whole-second Retry-After come back in step and collide again and again.
                wait = min(float(response.headers.get("Retry-After") or 3), 4.0)
                retry = random.uniform(1.0, wait)
        gevent.sleep(retry)
    return None


def guarded(journey):
    """An unexpected exception ends this participant's journey (counted), not a retry loop."""

    @functools.wraps(journey)
    def wrapped(self):
        try:
            journey(self)
        except (StopUser, gevent.GreenletExit):
            raise
        except Exception as error:  # noqa: BLE001 (reported, then the participant leaves)
            ERRORS[f"{type(self).__name__}: {type(error).__name__}: {error}"[:160]] += 1
            self.give_up()

    return wrapped


ERRORS = Counter()


class Steady(Participant):
    pause = (5.0, 15.0)

    @task
    @guarded
    def journey(self):
        if not self.login():
            self.give_up()
        gevent.sleep(random.uniform(1, 5))  # the home page, the rules
        attempt = self.start_attempt()
        if attempt is None:
            self.give_up()
        for question in attempt["questions"]:
            gevent.sleep(random.uniform(*self.pause))
            self.save(attempt, question)
        gevent.sleep(random.uniform(1, 3))
        self.submit(attempt)
        self.done()


class Herd(Participant):
    window = 10.0

    @task
    @guarded
    def journey(self):
        if not self.login():
            self.give_up()
        Herd.ready += 1
        self.go.wait()
        gevent.sleep(random.uniform(0, self.window))
        if random.random() < 0.2:  # a double click: two presses at once from one browser
            twin = gevent.spawn(self.start_attempt)
            self.start_attempt()
            twin.join()
        else:
            self.start_attempt()
        self.done()


class Rush(Participant):
    window = 10.0

    @task
    @guarded
    def journey(self):
        if not self.login():
            self.give_up()
        attempt = self.start_attempt(name="start (before the rush)")
        if attempt is None:
            self.give_up()
        Rush.ready += 1
        self.go.wait()
        gevent.sleep(random.uniform(0, self.window - 3))
        for question in attempt["questions"]:
            self.save(attempt, question)
            gevent.sleep(random.uniform(0.02, 0.15))
        self.submit(attempt)
        self.done()


class Busy(Participant):
    """Keeps saving with short pauses; names its saves by the phase the run is in."""

    phase = "save, quiet"

    @task
    @guarded
    def journey(self):
        if not self.login():
            self.give_up()
        attempt = self.start_attempt(name="start (before the rush)")
        if attempt is None:
            self.give_up()
        Busy.ready += 1
        questions = attempt["questions"]
        while not Busy.stop:
            gevent.sleep(random.uniform(0.5, 1.5))
            self.save(attempt, random.choice(questions), name=Busy.phase)
        self.done()


class Loop(FastHttpUser):
    """Closed loop, no think time: throughput."""

    abstract = True
    wait_time = constant(0)


class Hello(Loop):
    gate = Event()  # set while the hello-world side of the throughput run is measured

    @task
    def hello(self):
        Hello.gate.wait()
        for try_ in range(2):  # a keep-alive connection dropped while the gate was shut
            with self.client.get("/hello", name="hello world", catch_response=True) as response:
                if response.status_code == 0 and try_ == 0:
                    response.success()
                    RETRIED["hello world"] += 1
                    continue
                return


class SaveLoop(Participant):
    gate = Event()  # set while the answer-save side of the throughput run is measured

    @task
    @guarded
    def journey(self):
        if not self.login():
            self.give_up()
        attempt = self.start_attempt(name="start (before the loop)")
        if attempt is None:
            self.give_up()
        SaveLoop.ready += 1
        while True:
            SaveLoop.gate.wait()
            self.save(attempt, random.choice(attempt["questions"]), name="save answer (loop)")


def wait_for(condition, timeout: float, label: str, env: Environment | None = None) -> bool:
    started = time.monotonic()
    last = started
    while not condition():
        if time.monotonic() - started > timeout:
            print(f"  {label}: timed out after {timeout:.0f} s", flush=True)
            return False
        gevent.sleep(0.2)
        if env is not None and time.monotonic() - last > 15:
            last = time.monotonic()
            total = env.stats.total
            print(
                f"  {label}: {time.monotonic() - started:.0f} s, {env.runner.user_count} users, "
                f"{total.num_requests} requests, {total.num_failures} failures",
                flush=True,
            )
            for error in list(env.stats.errors.values())[:3]:
                print(f"    {error.method} {error.name}: {error.error} ×{error.occurrences}")
    return True


def environment(user_class, host: str) -> Environment:
    user_class.host = host
    env = Environment(user_classes=[user_class])
    env.create_local_runner()
    return env


def entries(env: Environment, scenario: str) -> list[dict]:
    rows = []
    for (name, method), entry in sorted(env.stats.entries.items()):
        if entry.num_requests == 0:
            continue
        rows.append(
            {
                "scenario": scenario,
                "endpoint": f"{method} {name}",
                "requests": entry.num_requests,
                "errors": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.50),
                "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99),
                "max": round(entry.max_response_time or 0),
            }
        )
    failures = Counter(f"{e.method} {e.name}: {e.error}" for e in env.stats.errors.values())
    for text, _ in failures.most_common(5):
        print(f"  failure: {text}", flush=True)
    return rows


def logins(prefix: str, count: int):
    return iter([f"{prefix}{n}@bench.vn" for n in range(count)])


class CpuMeter:
    """CPU seconds used by gunicorn servers (master and workers) and by this load generator."""

    def __init__(self, **servers: int):
        self.servers = {name: psutil.Process(pid) for name, pid in servers.items()}

    @staticmethod
    def _used(process: psutil.Process, children: bool = True) -> float:
        total = 0.0
        for each in [process, *(process.children(recursive=True) if children else ())]:
            times = each.cpu_times()
            total += times.user + times.system
        return total

    def snapshot(self) -> dict[str, float]:
        used = {name: self._used(process) for name, process in self.servers.items()}
        return {**used, "load generator": self._used(psutil.Process(), children=False)}

    @staticmethod
    def per_request(used: dict, requests: int, seconds: float) -> dict:
        """For each process group, from the CPU seconds it `used`: share of the two cores, and
        CPU milliseconds per request."""
        return {
            name: {
                "cores": round(cpu / seconds, 2),
                "ms_per_request": round(1000 * cpu / max(requests, 1), 3),
            }
            for name, cpu in used.items()
        }


def run_throughput(
    app_url: str,
    hello_url: str,
    users: int,
    seconds: float,
    windows: int,
    profile: dict,
    cpu: CpuMeter,
):
    """Hello world and answer save, closed loop with the same number of users, in turns.

    Both crowds stay connected; each side is measured in `windows` windows of `seconds`
    taking turns (hello, save, hello, save …), so a slower or faster minute of the shared
    machine falls on both sides alike. The ratio is that of the requests per second summed
    over the windows; each pair's own ratio is printed too, to show the spread.
    """
    hello_env = environment(Hello, hello_url)
    SaveLoop.logins, SaveLoop.ready = logins("t", users), 0
    save_env = environment(SaveLoop, app_url)
    Hello.gate.clear()
    SaveLoop.gate.set()  # the savers log in and start their attempts
    hello_env.runner.start(users, spawn_rate=users)
    save_env.runner.start(users, spawn_rate=users)
    wait_for(lambda: SaveLoop.ready >= users, 60, "save loop start")
    sides = {"hello": (Hello, hello_env), "save": (SaveLoop, save_env)}
    totals = {side: {"requests": 0, "seconds": 0.0, "cpu": Counter()} for side in sides}
    pairs = []
    for window in range(windows):
        rates = {}
        for side, (crowd, env) in sides.items():
            for other, _ in sides.values():
                other.gate.clear()
            gevent.sleep(0.5)  # the other side's requests in flight finish
            crowd.gate.set()
            gevent.sleep(1 if window else 3)  # warm-up: connections, caches, the first pages
            if window == 0:
                env.stats.reset_all()
            if side == "save" and window == windows - 1 and profile.get("pid"):
                profile["process"] = subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record",
                     "--pid", str(profile["pid"]), "--duration", str(max(1, int(seconds) - 2)),
                     "--rate", "250", "--format", "raw", "--output", str(profile["raw"])],
                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                )  # fmt: skip
            requests_before, cpu_before = env.stats.total.num_requests, cpu.snapshot()
            gevent.sleep(seconds)
            requests = env.stats.total.num_requests - requests_before
            total = totals[side]
            total["requests"] += requests
            total["seconds"] += seconds
            total["cpu"].update(
                {name: value - cpu_before[name] for name, value in cpu.snapshot().items()}
            )
            rates[side] = requests / seconds
        pairs.append(rates["save"] / rates["hello"])
        print(
            f"  window {window + 1}: hello {rates['hello']:.0f} req/s, save {rates['save']:.0f} "
            f"req/s, ratio {pairs[-1]:.2f}",
            flush=True,
        )
    for crowd, _ in sides.values():
        crowd.gate.set()
    rows = entries(hello_env, "throughput") + entries(save_env, "throughput")
    hello_env.runner.quit()
    save_env.runner.quit()
    if profile.get("process"):
        profile["process"].wait(timeout=60)
    results = {}
    for side, total in totals.items():
        results[f"{side}_rps"] = total["requests"] / total["seconds"]
        results["cpu_" + side] = cpu.per_request(total["cpu"], total["requests"], total["seconds"])
    results.update(
        ratio=results["save_rps"] / results["hello_rps"],
        window_ratios=[round(ratio, 3) for ratio in pairs],
    )
    print(
        f"  hello {results['hello_rps']:.0f} req/s, save {results['save_rps']:.0f} req/s, "
        f"ratio {results['ratio']:.2f} (windows {min(pairs):.2f}–{max(pairs):.2f})",
        flush=True,
    )
    for phase in ("hello", "save"):
        print(f"  CPU during {phase}: {cpu_line(results['cpu_' + phase])}", flush=True)
    return rows, results


def cpu_line(usage: dict) -> str:
    return "; ".join(
        f"{name} {each['cores']:.2f} cores, {each['ms_per_request']:.2f} ms/request"
        for name, each in usage.items()
    )


def run_steady(url: str, count: int, spawn_rate: float, pause: tuple[float, float]):
    Steady.logins, Steady.pause = logins("p", count), pause
    env = environment(Steady, url)
    env.runner.start(count, spawn_rate=spawn_rate)
    timeout = count / spawn_rate + 30 * pause[1] + 300
    wait_for(lambda: Steady.finished + Steady.aborted >= count, timeout, "steady", env)
    rows = entries(env, "steady")
    env.runner.quit()
    return rows, {"steady_finished": Steady.finished, "steady_aborted": Steady.aborted}


def run_herd(url: str, count: int, database_url: str):
    Herd.logins = logins("h", count)
    env = environment(Herd, url)
    env.runner.start(count, spawn_rate=200)
    wait_for(lambda: Herd.ready + Herd.aborted >= count, 300, "herd log-ins", env)
    env.stats.reset_all()
    started = time.monotonic()
    Herd.go.set()
    wait_for(lambda: Herd.finished + Herd.aborted >= count, 300, "herd", env)
    elapsed = time.monotonic() - started
    rows = [row for row in entries(env, "herd") if row["endpoint"] != "POST login"]
    env.runner.quit()
    per_user = attempts_per_user(database_url, "h%")
    summary = {
        "herd_presses": sum(r["requests"] for r in rows if r["endpoint"] == "POST start"),
        "herd_seconds": elapsed,
        "herd_people_with_attempt": len(per_user),
        "herd_duplicates": sum(1 for n in per_user.values() if n > 1),
    }
    print(f"  herd: {summary}", flush=True)
    return rows, summary


def attempts_per_user(database_url: str, pattern: str) -> dict[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("sqlite:///", "sqlite:///", 1))
    with engine.connect() as connection:
        result = connection.execute(
            text(
                "SELECT a.user_id, count(*) FROM attempts a JOIN users u ON u.id = a.user_id "
                "WHERE u.login LIKE :pattern GROUP BY a.user_id"
            ),
            {"pattern": pattern},
        )
        counts = dict(result.all())
    engine.dispose()
    return counts


def run_rush(url: str, count: int):
    Rush.logins = logins("r", count)
    env = environment(Rush, url)
    env.runner.start(count, spawn_rate=200)
    wait_for(lambda: Rush.ready + Rush.aborted >= count, 300, "rush set-up", env)
    env.stats.reset_all()
    Rush.go.set()
    wait_for(lambda: Rush.finished + Rush.aborted >= count, 300, "rush", env)
    rows = [r for r in entries(env, "rush") if r["endpoint"] not in ("POST login",)]
    env.runner.quit()
    return rows, {"rush_participants": count}


def run_login_rush(url: str, busy: int, burst: int, quiet_seconds: float):
    """Busy participants save every ~1 s; then `burst` people log in at once (scrypt)."""
    Busy.logins, Busy.stop, Busy.phase = logins("b", busy), False, "save, quiet"
    env = environment(Busy, url)
    env.runner.start(busy, spawn_rate=100)
    wait_for(lambda: Busy.ready + Busy.aborted >= busy, 120, "busy set-up", env)
    env.stats.reset_all()
    gevent.sleep(quiet_seconds)
    Busy.phase = "save, during login rush"
    names = logins("l", burst)

    def log_in_once():
        session = FastHttpSession(url, env.events.request, user=None, network_timeout=60)
        log_in(session, next(names), "login (rush)")

    started = time.monotonic()
    gevent.joinall([gevent.spawn_later(random.uniform(0, 2), log_in_once) for _ in range(burst)])
    rush_seconds = time.monotonic() - started
    Busy.phase = "save, after"
    gevent.sleep(3)
    Busy.stop = True
    wait_for(lambda: Busy.finished + Busy.aborted >= busy, 30, "busy stop")
    rows = [r for r in entries(env, "loginrush") if not r["endpoint"].startswith("POST start")]
    rows = [r for r in rows if r["endpoint"] != "POST login"]
    env.runner.quit()
    print(f"  login rush: {burst} log-ins took {rush_seconds:.1f} s", flush=True)
    return rows, {"login_rush_burst": burst, "login_rush_seconds": rush_seconds}


def summarise_profile(raw: Path, top: int = 18) -> list[str]:
    """Inclusive share of samples per function (py-spy raw: 'frame;frame;... count')."""
    inclusive, total = Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        total += count
        frames = {frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0].split("/")[-1]
                  + ")" for frame in stack.split(";")}  # fmt: skip
        for frame in frames:
            inclusive[frame] += count
    return [f"{100 * n / total:5.1f} %  {frame}" for frame, n in inclusive.most_common(top)]


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} × {cpu}, {memory} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average before the run "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def table(rows: list[dict]) -> str:
    lines = [
        "| scenario | endpoint | requests | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['endpoint']} | {r['requests']:,} | {r['errors']} | "
            f"{r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | {r['max']:,} |"
        )
    return "\n".join(lines)


def dump_greenlets(*_args) -> None:
    """kill -USR1 <pid>: what every greenlet is waiting for."""
    print("\n".join(gevent.util.format_run_info()), flush=True)


def main() -> None:
    signal.signal(signal.SIGUSR1, dump_greenlets)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--participants", type=int, help="steady: 2,000 (SQLite), 5,000 (PG)")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="steady log-ins per second")
    parser.add_argument("--pause", type=float, nargs=2, default=(5.0, 15.0), metavar=("MIN", "MAX"))
    parser.add_argument("--herd", type=int, default=1000)
    parser.add_argument("--rush", type=int, default=500)
    parser.add_argument("--busy", type=int, default=100, help="loginrush: participants saving")
    parser.add_argument("--burst", type=int, default=200, help="loginrush: log-ins at once")
    parser.add_argument("--loop-users", type=int, default=24, help="throughput: concurrent users")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput: each window")
    parser.add_argument("--windows", type=int, default=3, help="throughput: turns of each side")
    parser.add_argument("--scenarios", default="throughput,steady,herd,rush,loginrush")
    parser.add_argument("--profile", action="store_true", help="py-spy a worker during saves")
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    participants = args.participants or (2000 if args.db == "sqlite" else 5000)

    OUT.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    info = machine()
    print(f"machine: {info}", flush=True)
    if args.db == "sqlite":
        database_url = f"sqlite:///{folder / 'bench.sqlite'}"
    else:
        database_url = postgres_url("quizapp_bench")
    groups = {
        "p": (participants, True), "t": (args.loop_users, False), "h": (args.herd, False),
        "r": (args.rush, False), "b": (args.busy, False), "l": (args.burst, True),
    }  # fmt: skip
    Participant.round_id = prepare(folder, database_url, groups)
    env = app_env(database_url)
    app = Gunicorn("wsgi:app", free_port(), env, folder / "app.log").wait("/healthz")
    hello = Gunicorn("hello:app", free_port(), env, folder / "hello.log", ["--chdir", "bench"])
    hello.wait("/hello")
    workers = app.worker_pids()
    while len(workers) < int(os.environ.get("QUIZAPP_WORKERS", os.cpu_count())):
        time.sleep(0.5)
        workers = app.worker_pids()
    settings = (
        f"gunicorn.conf.py: {len(workers)} workers × {os.environ.get('QUIZAPP_THREADS', 4)} "
        "threads (gthread), access log off"
    )
    print(settings, flush=True)
    rows, summary = [], {"db": args.db, "participants": participants, "machine": info}
    profile = {"pid": workers[0], "raw": OUT / f"profile-save-{args.db}.txt"} if args.profile else {}
    try:
        if "throughput" in scenarios:
            print("throughput …", flush=True)
            cpu = CpuMeter(**{"app server": app.process.pid, "hello server": hello.process.pid})
            more, extra = run_throughput(
                app.url, hello.url, args.loop_users, args.seconds, args.windows, profile, cpu
            )
            rows, summary = rows + more, {**summary, **extra}
        if "herd" in scenarios:
            print(f"herd: {args.herd} Start presses within 10 s …", flush=True)
            more, extra = run_herd(app.url, args.herd, database_url)
            rows, summary = rows + more, {**summary, **extra}
        if "rush" in scenarios:
            print(f"rush: {args.rush} participants save and submit within 10 s …", flush=True)
            more, extra = run_rush(app.url, args.rush)
            rows, summary = rows + more, {**summary, **extra}
        if "loginrush" in scenarios:
            print(f"loginrush: {args.burst} log-ins while {args.busy} save …", flush=True)
            more, extra = run_login_rush(app.url, args.busy, args.burst, 15)
            rows, summary = rows + more, {**summary, **extra}
        if "steady" in scenarios:
            print(f"steady: {participants} participants …", flush=True)
            more, extra = run_steady(app.url, participants, args.spawn_rate, tuple(args.pause))
            rows, summary = rows + more, {**summary, **extra}
    finally:
        app.stop()
        hello.stop()
    summary["load_after"] = os.getloadavg()
    print()
    print(f"machine: {info}")
    print(f"database: {args.db}; {settings}")
    if "ratio" in summary:
        print(
            f"throughput: hello world {summary['hello_rps']:.0f} req/s, answer save "
            f"{summary['save_rps']:.0f} req/s, ratio {summary['ratio']:.2f} (target ≥ 0.33; "
            f"{len(summary['window_ratios'])} windows each, "
            f"{min(summary['window_ratios']):.2f}–{max(summary['window_ratios']):.2f})"
        )
        for phase in ("hello", "save"):
            print(f"CPU during {phase}: {cpu_line(summary['cpu_' + phase])}")
    if "steady_finished" in summary:
        print(f"simulated participants (steady): {participants}, finished {summary['steady_finished']}")
    if "herd_duplicates" in summary:
        print(
            f"herd: {summary['herd_presses']} presses in {summary['herd_seconds']:.1f} s, "
            f"{summary['herd_people_with_attempt']} people with an attempt, "
            f"{summary['herd_duplicates']} duplicates"
        )
    for name, seconds in sorted(LOGIN_SECONDS.items()):
        seconds.sort()
        pick = lambda q: seconds[min(len(seconds) - 1, int(q * len(seconds)))]  # noqa: E731
        summary[f"{name}: seconds until logged in"] = [pick(0.5), pick(0.95), pick(0.99)]
        print(
            f"{name}: {len(seconds)} people logged in; {BUSY[name]} 'busy, retry' replies; "
            f"time until logged in p50 {pick(0.5):.1f} s, p95 {pick(0.95):.1f} s, "
            f"p99 {pick(0.99):.1f} s"
        )
    if ERRORS:
        print(f"journeys ended by an exception: {dict(ERRORS)}")
    summary["journey_exceptions"] = dict(ERRORS)
    if RETRIED:
        retried = {k: v for k, v in RETRIED.items() if ":" not in k}
        print(f"sent again after a dropped keep-alive connection: {retried}")
        summary["retried"] = retried
    print(f"errors: {sum(r['errors'] for r in rows)}")
    print(table(rows))
    if profile.get("raw") and profile["raw"].exists():
        print("\nwhere a worker spends its time during the save loop (py-spy, inclusive):")
        print("\n".join(summarise_profile(profile["raw"])))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"load-{args.db}-{stamp}.json").write_text(
        json.dumps({"summary": summary, "rows": rows}, indent=1, default=str)
    )


if __name__ == "__main__":
    main()
