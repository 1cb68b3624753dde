"""N hosted LLM Explorer replicas behind nginx on this machine (README: "Hosting at scale").

    python deploy/scaled.py --replicas 2 --port 8080     # make serve-scaled REPLICAS=2
    python deploy/scaled.py --write-compose-conf         # deploy/nginx/nginx.conf for compose

Each replica is `streamlit run app/serve.py` (warm before it reports healthy) in hosted mode on a free 127.0.0.1 port, with its
share of the machine's training slots (LLM_EXPLORER_TRAINING_SLOTS = cores // replicas, at
least 1), the same cookie secret (a learner moved to another replica keeps a valid XSRF
cookie) and the shared work store (LLM_EXPLORER_STORE). nginx runs from a config generated
from deploy/nginx/nginx.conf.template into a temporary folder, in the foreground. Ctrl-C (or
SIGTERM) stops nginx and every replica; so does a replica or nginx that dies on its own.

The functions here are also what benchmarks/load.py --replicas and the tests use.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TEMPLATE = ROOT / "deploy" / "nginx" / "nginx.conf.template"
STATIC_DIR = ROOT / "deploy" / "nginx"            # class-full.html
COMPOSE_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEFAULT_STORE = Path.home() / ".llm-explorer" / "store"


@dataclass(frozen=True)
class DoorLimits:
    """What nginx allows one client address. A class behind one school router shares one
    address: raise these for it (make serve-scaled CONNECTIONS_PER_IP=400 ...)."""
    requests_per_s: int = 20         # HTTP requests (a page load fetches ~30 files at once)
    request_burst: int = 200
    connections_per_ip: int = 30     # open connections, websockets included (one a tab)
    idle_timeout_s: int = 300        # a websocket silent this long is closed (pings keep it open)


def upload_cap_mb() -> int:
    """nginx's body cap: the app's own cap on one upload in hosted mode."""
    from lessons.hosting.limits import HOSTED, upload_widget_mb
    return upload_widget_mb(max(HOSTED.max_checkpoint_bytes, HOSTED.max_upload_bytes))


def content_security_policy() -> str:
    """The app's own policy (app/state/headers.py), so the proxy and a lone server agree.
    Read from the source, not imported: deploy/ does not import the app."""
    source = (ROOT / "app" / "state" / "headers.py").read_text("utf-8")
    block = source.split("CONTENT_SECURITY_POLICY = \"; \".join([", 1)[1].split("])", 1)[0]
    return "; ".join(re.findall(r'^\s*"([^"]+)",', block, re.M))


def render_nginx_conf(upstreams: list[str], listen: str, work_dir: str | Path,
                      static_dir: str | Path = STATIC_DIR, limits: DoorLimits = DoorLimits(),
                      log_dir: str | Path | None = None) -> str:
    """The template with every {{NAME}} filled; a name left unfilled is an error.

    >>> conf = render_nginx_conf(["127.0.0.1:9001", "127.0.0.1:9002"], "8080", "/tmp/x")
    >>> "server 127.0.0.1:9002 max_fails=1 fail_timeout=10s;" in conf, "{{" in conf
    (True, False)
    """
    work_dir = Path(work_dir)
    values = {
        "PID_FILE": work_dir / "nginx.pid", "LOG_DIR": log_dir or work_dir,
        "TEMP_DIR": work_dir, "STATIC_DIR": static_dir, "LISTEN": listen,
        "UPSTREAM_SERVERS": "\n".join(f"        server {u} max_fails=1 fail_timeout=10s;"
                                      for u in upstreams),
        "REQUESTS_PER_S": limits.requests_per_s, "REQUEST_BURST": limits.request_burst,
        "CONNECTIONS_PER_IP": limits.connections_per_ip, "IDLE_TIMEOUT_S": limits.idle_timeout_s,
        "BODY_MB": upload_cap_mb(), "CSP": content_security_policy(),
    }
    text = TEMPLATE.read_text("utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", str(value))
    left = re.findall(r"\{\{(\w+)\}\}", text)
    if left:
        raise KeyError(f"the template names {left} but nothing fills them")
    return text


def compose_conf() -> str:
    """deploy/nginx/nginx.conf as docker-compose.yml mounts it into the nginx container: the
    compose service `app` resolves to every replica's address, and nginx adds each one."""
    return render_nginx_conf(["app:8501"], "8080", "/tmp", static_dir="/usr/share/nginx/llmx",
                             log_dir="/var/log/nginx")


def nginx_config_test(conf_path: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on a config file (no server started)."""
    return subprocess.run([NGINX, "-t", "-p", str(conf_path.parent), "-c", str(conf_path)],
                          capture_output=True, text=True, timeout=30)


# ---- processes -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def serve_command(port: int, extra_args=()) -> list[str]:
    """The app's server on 127.0.0.1:port as every replica (and the benchmarks) run it:
    app/serve.py, which warms every page before /_stcore/health answers 200 and sends hosted
    mode's headers from its first response."""
    return [sys.executable, "-m", "streamlit", "run", "app/serve.py",
            "--server.headless", "true", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false", *extra_args]


def replica_env(replicas: int, store: Path, cookie_secret: str, extra: dict | None = None) -> dict:
    cores = os.cpu_count() or 1
    env = dict(os.environ, LLM_EXPLORER_HOSTED="1", OMP_NUM_THREADS="1",
               LLM_EXPLORER_TRAINING_SLOTS=str(max(1, cores // replicas)),
               LLM_EXPLORER_STORE=str(store), STREAMLIT_SERVER_COOKIE_SECRET=cookie_secret)
    env.update(extra or {})
    return env


@dataclass
class Cluster:
    """nginx and its replicas, started by start() and stopped by stop()."""
    replicas: int
    port: int = 0                              # nginx's port; 0: a free one
    store: Path = DEFAULT_STORE
    limits: DoorLimits = DoorLimits()
    extra_env: dict = field(default_factory=dict)
    extra_args: list = field(default_factory=list)    # more `streamlit run` options
    log_to: object = None                      # a file for the replicas' output (None: own files)
    work_dir: Path = None
    replica_ports: list = field(default_factory=list)
    processes: list = field(default_factory=list)     # replicas first, nginx last
    nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[i]}"

    def start(self, timeout_s: float = 300) -> "Cluster":
        """Every replica healthy (warm: tens of seconds each, longer side by side on few cores),
        then nginx."""
        if not os.path.exists(NGINX):
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx; "
                               "make serve-scaled installs it when run as root)")
        self.work_dir = Path(tempfile.mkdtemp(prefix="llm-explorer-nginx-"))
        self.work_dir.chmod(0o755)     # nginx's workers (user nobody under root) write temp files here
        self.port = self.port or free_port()
        self.store.mkdir(parents=True, exist_ok=True)
        env = replica_env(self.replicas, self.store, secrets.token_hex(32), self.extra_env)
        try:
            for i in range(self.replicas):
                self.replica_ports.append(free_port())
                self.processes.append(self._start_replica(i, env))
            deadline = time.monotonic() + timeout_s
            for i in range(self.replicas):
                self._wait(lambda i=i: healthy(self.replica_url(i)), deadline, f"replica {i}")
            self.start_nginx()
            self._wait(lambda: healthy(self.url), deadline, "nginx")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_replica(self, i: int, env: dict) -> subprocess.Popen:
        log = self.log_to or open(self.work_dir / f"replica-{i}.log", "wb")
        command = serve_command(self.replica_ports[i], self.extra_args)
        # own process group: stopping it stops anything it started
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_nginx(self) -> None:
        conf = self.work_dir / "nginx.conf"
        upstreams = [f"127.0.0.1:{p}" for p in self.replica_ports]
        conf.write_text(render_nginx_conf(upstreams, f"127.0.0.1:{self.port}", self.work_dir,
                                          limits=self.limits))
        checked = nginx_config_test(conf)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the generated config:\n{checked.stderr}")
        self.nginx = subprocess.Popen(
            [NGINX, "-p", str(self.work_dir), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=open(self.work_dir / "nginx.out", "wb"),
            start_new_session=True)

    def stop_nginx(self) -> None:
        if self.nginx is not None:
            stop_process(self.nginx)
            self.nginx = None

    def kill_replica(self, i: int) -> None:
        """What a crash does: SIGKILL, no clean-up."""
        stop_process(self.processes[i], signals=((signal.SIGKILL, 5),))

    def _wait(self, condition, deadline: float, what: str) -> None:
        while not condition():
            dead = [p for p in [*self.processes, self.nginx] if p is not None and p.poll() is not None]
            if dead:
                raise RuntimeError(f"{what}: a process exited (logs in {self.work_dir})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} was not healthy in time (logs in {self.work_dir})")
            time.sleep(0.3)

    def all_processes(self) -> list[subprocess.Popen]:
        return [p for p in [*self.processes, self.nginx] if p is not None]

    def stop(self) -> None:
        self.stop_nginx()
        for process in self.processes:
            stop_process(process)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def stop_process(process: subprocess.Popen,
                 signals=((signal.SIGTERM, 10), (signal.SIGKILL, 5))) -> None:
    """Stop a process started in its own group, and everything in that group."""
    for sig, wait_s in signals:
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


# ---- the command -----------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--port", type=int, default=8080, help="nginx listens here (127.0.0.1)")
    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help="LLM_EXPLORER_STORE for every replica (shared)")
    p.add_argument("--requests-per-s", type=int, default=DoorLimits.requests_per_s)
    p.add_argument("--request-burst", type=int, default=DoorLimits.request_burst)
    p.add_argument("--connections-per-ip", type=int, default=DoorLimits.connections_per_ip)
    p.add_argument("--write-compose-conf", action="store_true",
                   help=f"write {COMPOSE_CONF.relative_to(ROOT)} for docker-compose.yml and exit")
    args = p.parse_args(argv)
    if args.replicas < 1:
        p.error("--replicas must be at least 1")
    return args


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.write_compose_conf:
        COMPOSE_CONF.write_text(compose_conf(), "utf-8")
        print(f"wrote {COMPOSE_CONF}")
        return 0
    limits = DoorLimits(args.requests_per_s, args.request_burst, args.connections_per_ip)
    signal.signal(signal.SIGTERM, _interrupt)     # `kill` stops it as cleanly as Ctrl-C
    signal.signal(signal.SIGINT, _interrupt)      # also when started in the background (SIGINT ignored)
    cluster = Cluster(args.replicas, args.port, args.store, limits)
    try:
        cluster.start()
        print(f"LLM Explorer: {args.replicas} replicas behind nginx at {cluster.url} "
              f"(logs and config in {cluster.work_dir}; Ctrl-C stops everything)", flush=True)
        while all(p.poll() is None for p in cluster.all_processes()):
            time.sleep(1.0)
        print("a replica or nginx stopped on its own; stopping the rest", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()
        print("stopped nginx and every replica", flush=True)


if __name__ == "__main__":
    sys.exit(main())
