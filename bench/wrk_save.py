"""Answer-save throughput measured with wrk: this tree against an older commit, in turns.

    .venv/bin/python bench/wrk_save.py [--db sqlite|postgres] [--old main] [--turns 6]
                                       [--seconds 10] [--connections 24]

One database (bench/servers.py: the shipped bank, a contest of 24 questions), three gunicorns
under the same gunicorn.conf.py (2 workers x 4 gthread threads, access log off): this tree,
the `--old` commit's tree (`git archive` into a temporary folder, run with the same virtualenv)
and the hello-world app (bench/hello.py). wrk, a C load generator whose own CPU is small, then
drives each for `--seconds` in turns: hello world, then old and new (which of the two goes
first alternates from turn to turn), `--turns` times. Each save run is `--connections` wrk
threads of one connection each, one participant per thread (bench/wrk/save.lua: log in, start
or resume the attempt, then PUT answers with the CSRF header); only the saves are counted.
Prints every run and the medians; the figures go to bench/out/wrk-save-*.json. PostgreSQL is
the throwaway cluster of scripts/pg-test-server.sh (QUIZAPP_PG_PORT, PG_DIR).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import PASSWORD, ROOT, Gunicorn, app_env, free_port, postgres_url, prepare  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
SCRIPT = Path(__file__).resolve().parent / "wrk" / "save.lua"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a gunicorn master and its workers so far."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    total = 0
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def old_tree(ref: str, folder: Path) -> Path:
    """The tree of commit `ref`, extracted (its quizapp package shadows this one's there)."""
    target = folder / "old"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    # gunicorn --chdir puts the folder first on sys.path, as here: its quizapp is the one served.
    check = "import sys; sys.path.insert(0, '.'); import quizapp; print(quizapp.__file__)"
    served = subprocess.run(
        [sys.executable, "-c", check], cwd=target, check=True, capture_output=True, text=True
    ).stdout.strip()
    if not served.startswith(str(target)):
        raise RuntimeError(f"the old tree would serve {served}, not its own quizapp")
    return target


def wrk(url: str, seconds: int, connections: int, script_args: list[str] | None) -> dict:
    """One wrk run: requests/s, and with the save script its saves/s and refusals."""
    command = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{int(seconds)}s"]
    if script_args is not None:
        command += ["-s", str(SCRIPT), url, "--", *script_args]
    else:
        command += [url + "/hello"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(non_2xx[1]) if non_2xx else 0
    saves = re.search(
        r"SAVES (\d+) in ([\d.]+) s: ([\d.]+) saves/s; refused (\d+); other (\d+)", output
    )
    if saves:
        result |= {
            "saves": int(saves[1]),
            "per_second": float(saves[3]),
            "refused": int(saves[4]),
            "other": int(saves[5]),
        }
    else:
        result["per_second"] = result["requests_per_second"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--old", default="main", help="the commit to compare with")
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=24)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    old = old_tree(args.old, folder)
    old_commit = subprocess.run(
        ["git", "rev-parse", "--short", args.old], cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    new_commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    if args.db == "sqlite":
        database_url = f"sqlite:///{folder / 'bench.sqlite'}"
    else:
        database_url = postgres_url("quizapp_wrk")
    n = args.connections
    round_id = prepare(folder, database_url, {"o": (n, False), "n": (n, False)})
    env = app_env(database_url)
    servers = {
        "hello": Gunicorn(
            "hello:app", free_port(), env, folder / "hello.log", ["--chdir", "bench"]
        ),
        "old": Gunicorn("wsgi:app", free_port(), env, folder / "old.log", ["--chdir", str(old)]),
        "new": Gunicorn("wsgi:app", free_port(), env, folder / "new.log"),
    }
    script = {
        "hello": None,
        "old": [str(round_id), "o", PASSWORD],
        "new": [str(round_id), "n", PASSWORD],
    }
    runs: list[dict] = []
    try:
        for side, server in servers.items():
            server.wait("/hello" if side == "hello" else "/healthz")
        time.sleep(2)  # the workers are up
        for side, server in servers.items():  # warm-up: connections, caches, first attempts
            wrk(server.url, 3, n, script[side])
        for turn in range(args.turns):
            order = ["hello", "old", "new"] if turn % 2 == 0 else ["hello", "new", "old"]
            for side in order:
                server = servers[side]
                cpu_before = cpu_seconds(server.process.pid)
                result = wrk(server.url, args.seconds, n, script[side])
                cpu = cpu_seconds(server.process.pid) - cpu_before
                count = result.get("saves") or result["requests_per_second"] * args.seconds
                result |= {"turn": turn + 1, "side": side, "cpu_ms_per_request": 1000 * cpu / count}
                runs.append(result)
                print(
                    f"turn {turn + 1} {side:>5}: {result['per_second']:8.1f}/s  "
                    f"CPU {result['cpu_ms_per_request']:.3f} ms/request"
                    + (
                        f"  (refused {result['refused']}, other {result['other']})"
                        if side != "hello"
                        else ""
                    ),
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.stop()
    summary = {}
    for side in servers:
        rates = [run["per_second"] for run in runs if run["side"] == side]
        cpu = [run["cpu_ms_per_request"] for run in runs if run["side"] == side]
        summary[side] = {
            "median_per_second": statistics.median(rates),
            "min": min(rates),
            "max": max(rates),
            "median_cpu_ms": statistics.median(cpu),
        }
    pairs = [
        next(r["per_second"] for r in runs if r["turn"] == t and r["side"] == "new")
        / next(r["per_second"] for r in runs if r["turn"] == t and r["side"] == "old")
        for t in range(1, args.turns + 1)
    ]
    print()
    print(f"database {args.db}; old {old_commit}, new {new_commit}; wrk {n} x 1 connection")
    for side, each in summary.items():
        print(
            f"{side:>5}: median {each['median_per_second']:.1f}/s "
            f"({each['min']:.1f}-{each['max']:.1f}), CPU {each['median_cpu_ms']:.3f} ms/request"
        )
    print(
        f"new/old per turn: {', '.join(f'{p:.3f}' for p in pairs)} "
        f"(median {statistics.median(pairs):.3f}); save/hello: old "
        f"{summary['old']['median_per_second'] / summary['hello']['median_per_second']:.3f}, new "
        f"{summary['new']['median_per_second'] / summary['hello']['median_per_second']:.3f}"
    )
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"wrk-save-{args.db}-{stamp}.json").write_text(
        json.dumps(
            {
                "db": args.db,
                "old": old_commit,
                "new": new_commit,
                "runs": runs,
                "summary": summary,
                "new_over_old": pairs,
                "load_after": os.getloadavg(),
            },
            indent=1,
        )  # fmt: skip
    )


if __name__ == "__main__":
    main()
