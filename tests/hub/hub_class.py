"""A class on one JupyterHub, for real (``make hub-test``; run as root, on loopback only).

What it builds (under build/hub/, reused between runs):
- a Python environment every user can run (Debian's /usr/bin/python3: the course's own .venv may
  sit in a folder other users cannot enter), with the course and jupyterhub installed;
- configurable-http-proxy from npm;
- a read-only copy of the course (notebooks) and of its data, shared by every user;
- N unprivileged users (``useradd``; root ignores file modes, so a root-only run proves nothing),
  each with their own HOME.

What it does: starts JupyterHub (LocalProcessSpawner, the users' servers run as the users), and
for every user, through the hub's REST API and a kernel's websocket: starts their server, runs
notebook 05's code cells from the read-only folder, types an open answer and a number into the
quiz, and reports the seed and where the answers went. Then it checks, as root:
- each user's answers are in their own store (in their HOME, owned by them, holding what they typed);
- nothing was written into the course folder;
- the users got different seeds;
and measures what one active student costs: memory (PSS and RSS of their server and kernel) and
CPU seconds. Everything it started is stopped at the end, whatever happens; every wait is bounded.

    python tests/hub/hub_class.py [--users 5] [--timeout 600]

Prints a report and writes build/hub/report.json; exits 1 if a check fails.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
WORK = PROJECT / "build" / "hub"
JUPYTERHUB = "jupyterhub==6.1.1"
CHP = "configurable-http-proxy@5.3.0"
USER_PREFIX = "mlmhub"
HUB_PORT, HUB_API_PORT, PROXY_API_PORT = 18000, 18081, 18001


def log(msg: str) -> None:
    print(f"[hub-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


# --- what the class runs on ----------------------------------------------------------------------

def build_env(course: Path) -> Path:
    """A venv from Debian's python3, readable and runnable by everyone, with the course + jupyterhub
    (reinstalled whenever the course's package or dependencies change)."""
    env = WORK / "env"
    stamp = env / ".installed"
    digest = hashlib.sha256(JUPYTERHUB.encode())
    for p in sorted([course / "pyproject.toml", *(course / "mlmcourse").rglob("*")]):
        if p.is_file():
            digest.update(p.relative_to(course).as_posix().encode() + p.read_bytes())
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return env
    shutil.rmtree(env, ignore_errors=True)
    run(["/usr/bin/python3", "-m", "venv", str(env)])
    log("installing the course and jupyterhub into the class environment (pip, about a minute)")
    with tempfile.TemporaryDirectory() as tmp:        # pip builds in the source tree: not the shared copy
        src = Path(tmp) / "course"
        shutil.copytree(course, src)
        run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", str(src), JUPYTERHUB])
    stamp.write_text(digest.hexdigest())
    return env


def build_proxy() -> Path:
    prefix = WORK / "chp"
    exe = prefix / "node_modules" / ".bin" / "configurable-http-proxy"
    if not exe.exists():
        log(f"installing {CHP} from npm")
        run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), CHP],
            stdout=subprocess.DEVNULL)
    return exe


def course_copy() -> Path:
    """The course as an instructor shares it: root-owned, read-only for everyone."""
    course = WORK / "course"
    if course.exists():
        run(["chmod", "-R", "u+w", str(course)])
        shutil.rmtree(course)
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROJECT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = PROJECT / name
        if src.is_file():
            (course / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, course / name)
    from mlmcourse.data import find_classroom
    (course / "data" / "shared").mkdir(parents=True, exist_ok=True)
    shutil.copy(find_classroom(download=False), course / "data" / "shared" / "classroom.csv")
    return course


def lock_down(course: Path) -> None:
    run(["chmod", "-R", "a-w,a+rX", str(course)])
    for p in [*WORK.parents][: len(WORK.parents) - 1]:     # every folder above must be enterable
        if p.stat().st_mode & 0o001 == 0:
            raise SystemExit(f"{p} is not enterable by other users (mode {oct(p.stat().st_mode)}); "
                             "put the checkout somewhere they can reach")
    WORK.chmod(0o755)


def make_users(n: int) -> list[str]:
    users = [f"{USER_PREFIX}{i}" for i in range(1, n + 1)]
    for u in users:
        try:
            pwd.getpwnam(u)
        except KeyError:
            run(["useradd", "--create-home", "--shell", "/bin/bash", u])
        home = Path(pwd.getpwnam(u).pw_dir)
        run(["rm", "-rf", str(home / ".local" / "share" / "mlmcourse"), str(home / ".cache" / "mlmcourse")])
    return users


def ours() -> list[int]:
    """Processes this test started (hub, proxy, users' servers and kernels): their command line
    names a path under build/hub/."""
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and int(p.name) != os.getpid():
            try:
                if str(WORK).encode() in (p / "cmdline").read_bytes():
                    found.append(int(p.name))
            except OSError:
                continue
    return found


def kill_ours() -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = ours()
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while ours() and time.monotonic() < deadline:
            time.sleep(0.2)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


# --- the hub -------------------------------------------------------------------------------------

def write_config(env: Path, chp: Path, course: Path, users: list[str], token: str) -> Path:
    state = WORK / "state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    state.chmod(0o700)
    cfg = state / "jupyterhub_config.py"
    settings = {
        "users": users, "token": token, "chp": str(chp), "singleuser": str(env / "bin" / "jupyterhub-singleuser"),
        "notebooks": str(course / "notebooks"), "data": str(course / "data" / "shared"), "state": str(state),
        "path": f"{env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    }
    cfg.write_text(f"""
S = {settings!r}
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{HUB_PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {HUB_API_PORT}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{PROXY_API_PORT}"
c.ConfigurableHTTPProxy.command = [S["chp"]]
c.JupyterHub.db_url = "sqlite:///" + S["state"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = S["state"] + "/cookie_secret"
c.JupyterHub.pid_file = S["state"] + "/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set(S["users"])
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [S["singleuser"]]
c.Spawner.notebook_dir = S["notebooks"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {{"MLMCOURSE_DATA_DIR": S["data"], "PATH": S["path"], "MPLBACKEND": "Agg"}}
c.JupyterHub.services = [{{"name": "class-test", "api_token": S["token"]}}]
c.JupyterHub.load_roles = [{{"name": "class-test", "services": ["class-test"],
                            "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"]}}]
""")
    return cfg


class Hub:
    def __init__(self, cfg: Path, env: Path, token: str):
        self.cfg, self.env, self.token = cfg, env, token
        self.base = f"http://127.0.0.1:{HUB_PORT}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float) -> None:
        with open(WORK / "state" / "hub.log", "w") as logf:     # the hub keeps its own copy of the file
            self.proc = subprocess.Popen([str(self.env / "bin" / "jupyterhub"), "-f", str(self.cfg)],
                                         cwd=self.cfg.parent, stdout=logf, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.wait(lambda: self.api("GET", "/hub/api/") is not None, timeout, "the hub to answer")

    def api(self, method: str, path: str, body: dict | None = None):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read()
                return json.loads(text) if text else {}
        except OSError:
            return None

    def wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited while waiting for {what}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out waiting for {what}:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return (WORK / "state" / "hub.log").read_text(errors="replace")[-3000:]

    def spawn(self, user: str, timeout: float) -> None:
        self.api("POST", "/hub/api/users", {"usernames": [user]})
        self.api("POST", f"/hub/api/users/{user}/server", {})

        def ready():
            info = self.api("GET", f"/hub/api/users/{user}")
            return bool(info and info.get("servers", {}).get("", {}).get("ready"))
        self.wait(ready, timeout, f"{user}'s server")

    def stop(self, users: list[str]) -> None:
        for u in users:
            self.api("DELETE", f"/hub/api/users/{u}/server")
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        for u in users:                                  # anything a user's server left behind
            subprocess.run(["pkill", "-KILL", "-u", u], check=False)
        kill_ours()                                      # the proxy runs in a session of its own


# --- a student's session, through the hub --------------------------------------------------------

STUDENT_CODE = """
import json
views = {{qid: quiz.view(qid) for qid in [q.id for q in quiz.bank.questions]}}
open_q = next(q for q in quiz.bank.questions if q.kind == "open")
num_q = next(q for q in quiz.bank.questions if q.kind == "numeric")
views[open_q.id].input.value = {typed!r}
views[num_q.id].input.value = "12.5"
quiz.store.flush()
print("RESULT " + json.dumps({{"seed": quiz.seed, "path": str(quiz.store.path), "open": open_q.id,
                               "numeric": num_q.id, "problems": quiz.store.problems()}}))
"""


async def run_cells(hub: Hub, user: str, cells: list[str], timeout: float) -> str:
    """Start a kernel on the user's server and run the cells in order; the text they printed."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    base = f"{hub.base}/user/{user}/api"
    kernel = await asyncio.to_thread(_post_json, f"{base}/kernels", hub.token, {"name": "python3"})
    ws = await websocket_connect(HTTPRequest(
        f"ws://127.0.0.1:{HUB_PORT}/user/{user}/api/kernels/{kernel['id']}/channels",
        headers={"Authorization": f"token {hub.token}"}))
    out: list[str] = []
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user, "session": msg_id,
                           "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            while True:
                raw = await asyncio.wait_for(ws.read_message(), timeout)
                if raw is None:
                    raise RuntimeError(f"{user}: the kernel's websocket closed")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    raise RuntimeError(f"{user}: a cell failed: {msg['content']['ename']}: {msg['content']['evalue']}")
                elif kind == "status" and msg["content"].get("execution_state") == "idle":
                    break          # iopub's idle comes after the cell's output (execute_reply may not)
    finally:
        ws.close()
    return "".join(out)


def _post_json(url: str, token: str, body: dict) -> dict:
    req = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def quiz_cells(course: Path) -> list[str]:
    nb = json.loads((course / "notebooks" / "05_quiz.ipynb").read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def usage(user: str) -> dict:
    """Memory and CPU of every process the user runs (their server and kernel)."""
    uid = pwd.getpwnam(user).pw_uid
    tick = os.sysconf("SC_CLK_TCK")
    rss = pss = cpu = 0.0
    procs = 0
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if p.stat().st_uid != uid:
                continue
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick
            for line in (p / "smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
            procs += 1
        except (OSError, IndexError, ValueError):
            continue
    return {"processes": procs, "rss_mb": round(rss, 1), "pss_mb": round(pss, 1), "cpu_s": round(cpu, 2)}


def check_store(user: str, result: dict, typed: str) -> list[str]:
    problems = []
    home = Path(pwd.getpwnam(user).pw_dir)
    path = Path(result["path"])
    if home not in path.parents:
        problems.append(f"{user}: answers at {path}, outside their HOME {home}")
    if not path.exists():
        return [*problems, f"{user}: no answers file at {path}"]
    if path.stat().st_uid != pwd.getpwnam(user).pw_uid:
        problems.append(f"{user}: {path} is not owned by them")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dump = "\n".join(str(row) for t, in conn.execute("select name from sqlite_master where type='table'")
                         for row in conn.execute(f"select * from {t}"))
    finally:
        conn.close()
    if typed not in dump:
        problems.append(f"{user}: their typed answer is not in {path}")
    if result.get("problems"):
        problems.append(f"{user}: the store reported {result['problems']}")
    return problems


async def one_student(hub: Hub, user: str, cells: list[str], timeout: float) -> dict:
    started = time.monotonic()
    await asyncio.to_thread(hub.spawn, user, timeout)
    spawned = time.monotonic() - started
    typed = f"answer typed by {user}: the school effect zeta_k is shared by every student of school k"
    text = await run_cells(hub, user, [*cells, STUDENT_CODE.format(typed=typed)], timeout)
    line = next((ln for ln in text.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{user}: the quiz cells printed no result:\n{text[-2000:]}")
    result = json.loads(line[len("RESULT "):])
    result.update(user=user, typed=typed, spawn_s=round(spawned, 1), session_s=round(time.monotonic() - started, 1))
    return result


async def the_class(hub: Hub, users: list[str], cells: list[str], timeout: float) -> list[dict]:
    return await asyncio.gather(*(one_student(hub, u, cells, timeout) for u in users))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=600, help="seconds for the whole class (bounded)")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("hub-test: run as root (it creates users and starts their servers as them)", file=sys.stderr)
        return 2
    if not 1 <= args.users <= 30:
        print("hub-test: --users between 1 and 30", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    kill_ours()                                          # an earlier run cut off before its cleanup
    course = course_copy()
    env = build_env(course)
    chp = build_proxy()
    lock_down(course)
    run(["chmod", "-R", "a+rX", str(env)])
    users = make_users(args.users)
    token = secrets.token_hex(16)
    cfg = write_config(env, chp, course, users, token)
    before = snapshot(course)
    hub = Hub(cfg, env, token)
    failures: list[str] = []
    report: dict = {"users": args.users}
    t0 = time.monotonic()
    try:
        hub.start(timeout=60)
        log(f"hub up; {len(users)} students start their servers and run notebook 05's quiz cells")
        results = asyncio.run(asyncio.wait_for(the_class(hub, users, quiz_cells(course), args.timeout / 2),
                                               args.timeout))
        report["class_s"] = round(time.monotonic() - t0, 1)
        costs = {u: usage(u) for u in users}
        report["students"] = [{**r, **costs[r["user"]]} for r in results]
        for r in results:
            failures += check_store(r["user"], r, r["typed"])
        seeds = [r["seed"] for r in results]
        if len(set(seeds)) != len(seeds):
            failures.append(f"two students got the same seed: {seeds}")
        if snapshot(course) != before:
            failures.append("something was written into the course folder")
    except Exception as exc:     # report it, then stop everything
        failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        hub.stop(users)
    left = ours()
    if left:
        failures.append(f"processes left running: {left}")
    report["failures"] = failures
    if report.get("students"):
        s = report["students"]
        report["per_student"] = {k: statistics.median(x[k] for x in s) for k in ("pss_mb", "rss_mb", "cpu_s",
                                                                                   "spawn_s", "session_s")}
    (WORK / "report.json").write_text(json.dumps(report, indent=1))
    for st in report.get("students", []):
        log(f"{st['user']}: seed {st['seed']}, PSS {st['pss_mb']} MB, RSS {st['rss_mb']} MB, "
            f"CPU {st['cpu_s']} s, server up in {st['spawn_s']} s, session {st['session_s']} s")
    if "per_student" in report:
        log(f"median per student: {report['per_student']}")
    for f in failures:
        log(f"FAIL {f}")
    log("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
