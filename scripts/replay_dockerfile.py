"""Replay the Dockerfile's steps in a fresh virtual environment, for machines without a Docker
engine: the closest check that its instructions are right.

Each instruction is carried out in a sandbox folder that stands in for the image's root:
ENV sets the environment, WORKDIR makes the folder, COPY copies from this repository, RUN runs
in bash with the fresh venv first on PATH (so `pip` is the venv's), USER runs the server as an
unprivileged user, and the HEALTHCHECK command is run against the server that CMD starts.
Two things cannot be the same as in Docker and are said out loud when they happen:
- `useradd` would add a user to *this* machine, so it is skipped; the server runs as `nobody`.
- the PyTorch CPU index may be out of reach, so with --local-torch its --index-url is dropped
  and pip takes the same torch version from its usual index (on our CI machine, a local CPU
  wheel).

    python scripts/replay_dockerfile.py [--local-torch] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE_PORT = 8501


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """[(INSTRUCTION, argument text)], continuation lines joined, comments dropped."""
    steps, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        word, _, rest = whole.partition(" ")
        steps.append((word.upper(), rest.strip()))
    return steps


def env_pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(text))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_path_for_everyone(target: Path) -> list[tuple[Path, int]]:
    """The venv's python links to this machine's interpreter; if that lives under a folder
    other users cannot enter (pyenv under /root), let them pass through it (o+x, no listing)
    while the server runs. Returns what to put back."""
    changed = []
    for folder in reversed(target.parents):
        mode = folder.stat().st_mode & 0o7777
        if not mode & 0o001:
            print(f"    letting other users pass through {folder} while the server runs")
            folder.chmod(mode | 0o001)
            changed.append((folder, mode))
    return changed


class Replay:
    def __init__(self, sandbox: Path, local_torch: bool):
        self.sandbox = sandbox
        self.venv = sandbox / "venv"
        self.workdir = sandbox
        self.env = {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(sandbox / "root")}
        if local_torch:   # this machine's pip settings (e.g. a folder of local wheels)
            self.env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
        self.user = None
        self.local_torch = local_torch
        self.healthcheck = None
        self.cmd = None

    def inside(self, path: str) -> Path:
        return self.sandbox / path.lstrip("/") if path.startswith("/") else self.workdir / path

    def do(self, word: str, arg: str) -> None:
        getattr(self, "do_" + word.lower(), self.do_other)(arg, word)

    def do_from(self, arg, _):
        wanted = re.search(r"python:(\d+\.\d+)", arg)
        here = f"{sys.version_info.major}.{sys.version_info.minor}"
        print(f"FROM {arg}: replaying with this machine's Python {here}"
              + ("" if wanted and wanted.group(1) == here else "  (differs from the image!)"))
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)

    def do_env(self, arg, _):
        self.env.update(env_pairs(arg))

    def do_workdir(self, arg, _):
        self.workdir = self.inside(arg)
        self.workdir.mkdir(parents=True, exist_ok=True)

    def do_copy(self, arg, _):
        *sources, target = shlex.split(arg)
        destination = self.inside(target)
        for source in sources:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(src, destination if len(sources) == 1 and not target.endswith("/")
                                else destination / src.name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, destination / src.name if target.endswith("/") else destination)

    def do_run(self, arg, _):
        if arg.startswith("useradd"):
            print(f"RUN {arg}\n    skipped: it would add a user to this machine; "
                  "the server will run as 'nobody' instead")
            return
        if self.local_torch:
            arg = re.sub(r"--index-url \S*download\.pytorch\.org\S*", "", arg)
        print(f"RUN {arg}")
        started = time.time()
        subprocess.run(["bash", "-c", arg], cwd=self.workdir, env=self.env, check=True)
        print(f"    done in {time.time() - started:.0f} s")

    def do_user(self, arg, _):
        self.user = arg

    def do_healthcheck(self, arg, _):
        self.healthcheck = arg.split(" CMD ", 1)[1]

    def do_cmd(self, arg, _):
        self.cmd = json.loads(arg)

    def do_other(self, arg, word):
        print(f"{word} {arg}: nothing to replay")

    def serve_and_check(self) -> bool:
        port = free_port()
        command = [c.replace(str(IMAGE_PORT), str(port)).replace("0.0.0.0", "127.0.0.1")
                   for c in self.cmd]
        command[0] = str(self.venv / "bin" / command[0])
        nobody = pwd.getpwnam("nobody")
        # the image's user owns its home; here 'nobody' gets a home of its own in the sandbox
        home = self.sandbox / "home-nobody"
        home.mkdir(exist_ok=True)
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        # as in the image, the user must be able to read and run everything installed
        subprocess.run(["chmod", "-R", "a+rX", str(self.sandbox)], check=True)
        env = dict(self.env, HOME=str(home))
        opened = open_path_for_everyone(Path(sys.base_prefix))
        print(f"CMD as nobody (uid {nobody.pw_uid}): {' '.join(command)}")
        server = subprocess.Popen(command, cwd=self.workdir, env=env, user=nobody.pw_uid,
                                  group=nobody.pw_gid, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        try:
            return self._wait_and_probe(port, env, server)
        finally:
            server.terminate()
            server.wait(10)
            for folder, mode in opened:
                folder.chmod(mode)

    def _wait_and_probe(self, port, env, server) -> bool:
        deadline = time.time() + 300      # the server warms every page before it is healthy
        check = self.healthcheck.replace(str(IMAGE_PORT), str(port))
        while time.time() < deadline:
            if server.poll() is not None:
                print(server.stdout.read().decode()[-3000:])
                return False
            # quiet while the server is still starting: refused connections are expected then
            ok = subprocess.run(["bash", "-c", check.replace("python ", f"{self.venv}/bin/python ", 1)],
                                env=env, capture_output=True).returncode == 0
            if ok:
                break
            time.sleep(1)
        else:
            print("HEALTHCHECK never passed")
            return False
        print(f"HEALTHCHECK passed: {check}")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        frontend = '<div id="root">' in page
        print(f"GET / -> {len(page)} bytes of HTML, Streamlit's frontend: {frontend}")
        return frontend


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--local-torch", action="store_true",
                   help="drop the PyTorch CPU index URL (for machines that cannot reach it)")
    p.add_argument("--keep", action="store_true", help="keep the sandbox folder")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("run as root: the server is started as 'nobody', like the image's non-root user")
        return 2
    sandbox = Path(tempfile.mkdtemp(prefix="dockerfile-replay-"))
    replay = Replay(sandbox, args.local_torch)
    try:
        for word, arg in instructions(ROOT / "Dockerfile"):
            replay.do(word, arg)
        size = subprocess.run(["du", "-sm", str(replay.venv)], capture_output=True, text=True)
        torch_build = subprocess.run([str(replay.venv / "bin" / "python"), "-c",
                                      "import torch; print(torch.__version__)"],
                                     capture_output=True, text=True).stdout.strip()
        print(f"installed environment: {size.stdout.split()[0]} MB, torch {torch_build}")
        ok = replay.serve_and_check()
    finally:
        if not args.keep:
            shutil.rmtree(sandbox, ignore_errors=True)
    print("REPLAY OK" if ok else "REPLAY FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
