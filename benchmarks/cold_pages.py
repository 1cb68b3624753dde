"""Cold pages: how long a learner waits for each page of a server that has just started (issue
#23 item 3), in Chromium.

It starts a fresh hosted server with the app's entry point (``streamlit run app/serve.py``, as
the Dockerfile, deploy/scaled.py and ``make app`` do; ``--entry main`` starts the plain
``streamlit run app/main.py`` instead, for comparison), times it from start to the first
``/_stcore/health`` 200, then opens every page of lessons/registry.py in English and in Chinese
(``/<page>?lang=<lang>``):

* first view: a new browser context (a new visitor, empty browser cache) on the fresh server,
  from navigation until the page's content is shown: its h1, Streamlit's script state
  "notRunning" and no running-status widget;
* warm reruns (target p50 <= 300 ms): what a learner waits for after touching a widget on the page
  already open: Streamlit runs the page's script again and the browser redraws what changed.
  The benchmark presses Streamlit's rerun hotkey "r" on the page's body (it works in viewer
  toolbar mode, hosted or not, and sends the widgets' current values: it changes nothing the
  learner made) ``--reruns`` times and times each from the key press until the script state has
  left "notRunning" (an observer in the page catches even a run shorter than a poll) and the
  content is shown again as above;
* the server's share of a rerun: the same rerun sent ``--reruns`` times over Streamlit's
  websocket by benchmarks/load.py's client (no browser), until its script_finished;
* reloads (extra information): the same page reloaded ``--reloads`` times in that context, a new
  browser session each time, which re-runs all of Streamlit's JavaScript; their p50.

After each view and each rerun it rests, uncounted, before the next: at least ``--settle-s``,
and until Chromium's main thread has been quiet (under 10 % busy) for half a second, at most
``--quiet-max-s``. A page goes on drawing after it says it is done (plotly's code loads and its
charts draw, bertviz's frames run their scripts), and without the rest that work spilled into the
next measurement: the first rerun of a page took 1-3 s, all of it the first view's drawing.
(Waiting for requestIdleCallback instead was tried: on a loaded machine it fired 5-15 s late even
on pages without frames.) The JSON line adds, per page, when that drawing ended after the first
view (``first_quiet_after_s``), and Chromium's main-thread busy time per document and per rerun
(the DevTools metric TaskDuration; on a loaded machine it includes waiting for a core).

Targets: first view <= 2 s after health, warm rerun p50 <= 300 ms. It prints a table, the
machine's load (os.getloadavg: the figures are only as good as the machine is quiet) and, last,
one JSON line with every figure.

    .venv/bin/python benchmarks/cold_pages.py            # make benchmark-cold-pages
    .venv/bin/python benchmarks/cold_pages.py --entry main --reloads 3
    .venv/bin/python benchmarks/cold_pages.py --pages home,attention --langs en --reruns 9
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.load import Tab  # noqa: E402
from deploy.scaled import free_port, healthy, serve_command, stop_process  # noqa: E402
from lessons import registry  # noqa: E402
from lessons.i18n import LANGUAGES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FIRST_VIEW_TARGET_S = 2.0
RERUN_TARGET_S = 0.3
QUIET_WINDOW_S = 0.5       # Chromium counts as done drawing after this long
QUIET_BUSY = 0.1           # at most this share of it busy
HOTKEY_TIMEOUT_S = 30      # the page on a quiet main thread takes the "r" key well within this
# the page's content is shown: a title, the script done, no "Running..." widget
SHOWN = """() => !!document.querySelector('h1')
    && document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')"""
# before a rerun's trigger: note when the script state leaves "notRunning" (the frontend sets
# "rerunRequested" at the key press, then the server's "running"), so the clock never stops on
# the state from before the rerun, however short the run
ARM_RERUN = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.llmRerunStarted = false;
    new MutationObserver((changes, observer) => {
        if (app.dataset.testScriptState !== 'notRunning') {
            window.llmRerunStarted = true;
            observer.disconnect();
        }
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
RERUN_SHOWN = f"() => window.llmRerunStarted === true && ({SHOWN})()"


def start_server(entry: str, port: int, log) -> subprocess.Popen:
    env = dict(os.environ, LLM_EXPLORER_HOSTED="1", OMP_NUM_THREADS="1")
    command = serve_command(port)
    if entry == "main":
        command[command.index("app/serve.py")] = "app/main.py"
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_healthy(url: str, server: subprocess.Popen, timeout_s: float) -> float:
    """Seconds from now until /_stcore/health answers 200."""
    started = time.perf_counter()
    while not healthy(url):
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"not healthy within {timeout_s:.0f} s")
        time.sleep(0.1)
    return time.perf_counter() - started


def busy_s(devtools) -> float:
    """Chromium's main-thread busy seconds for this document so far (TaskDuration)."""
    metrics = {m["name"]: m["value"] for m in devtools.send("Performance.getMetrics")["metrics"]}
    return metrics.get("TaskDuration", float("nan"))


def rest(page, devtools, settle_s: float, quiet_max_s: float) -> float:
    """Waits at least settle_s and until Chromium's main thread has been quiet for a window
    (or quiet_max_s have passed); returns the seconds from the call until that quiet window
    began (quiet_max_s if it never came)."""
    started = time.perf_counter()
    window_start, busy = started, busy_s(devtools)
    quiet_since = None         # the start of the quiet windows in a row up to now
    while True:
        page.wait_for_timeout(QUIET_WINDOW_S * 1000)
        now, busy_now = time.perf_counter(), busy_s(devtools)
        if busy_now - busy < QUIET_BUSY * (now - window_start):
            quiet_since = window_start if quiet_since is None else quiet_since
        else:
            quiet_since = None
        if quiet_since is not None and now - started >= settle_s:
            return quiet_since - started
        if now - started >= quiet_max_s:
            return quiet_max_s
        window_start, busy = now, busy_now


def timed_view(page, devtools, go, timeout_s: float, rest_s) -> tuple[float, float, float]:
    """Seconds from go() (a navigation or a reload) until the content is shown, the
    browser's main-thread busy seconds for this document by then, and (after rest_s(),
    a call of rest) the seconds from shown until Chromium's drawing was done."""
    started = time.perf_counter()
    go()
    page.wait_for_function(SHOWN, timeout=timeout_s * 1000, polling=20)
    shown = time.perf_counter() - started
    busy = busy_s(devtools)
    return shown, busy, rest_s()


def timed_rerun(page, devtools, timeout_s: float, rest_s) -> tuple[float, float]:
    """Seconds from pressing "r" on the page's body until the rerun's content is shown, and
    Chromium's main-thread busy seconds meanwhile; then rest_s()."""
    # the hotkey is ignored while a text box has the focus; the body takes keys otherwise
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.evaluate(ARM_RERUN)
    busy_before = busy_s(devtools)
    started = time.perf_counter()
    page.keyboard.press("r")
    # a hotkey a Streamlit upgrade dropped fails the row at once, not after timeout_s a rerun
    page.wait_for_function("() => window.llmRerunStarted === true",
                           timeout=min(timeout_s, HOTKEY_TIMEOUT_S) * 1000, polling=20)
    page.wait_for_function(RERUN_SHOWN, timeout=timeout_s * 1000, polling=20)
    shown = time.perf_counter() - started
    busy = busy_s(devtools) - busy_before
    rest_s()
    return shown, busy


def p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def measure_page(browser, url: str, lang: str, entry, reruns: int, reloads: int,
                 timeout_s: float, settle_s: float, quiet_max_s: float) -> dict:
    """One page in one language, in a new browser context: first view, reruns, reloads."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("Performance.enable")
    address = f"{url}/{entry.url_path}?lang={lang}"

    def rest_s():
        return rest(page, devtools, settle_s, quiet_max_s)
    try:
        first = timed_view(page, devtools, lambda: page.goto(address, wait_until="commit"),
                           timeout_s, rest_s)
        title = page.inner_text("h1")
        # reruns first: the page as its first view left it, as a learner finds it
        again = [timed_rerun(page, devtools, timeout_s, rest_s) for _ in range(reruns)]
        reloaded = [timed_view(page, devtools, lambda: page.reload(wait_until="commit"),
                               timeout_s, rest_s) for _ in range(reloads)]
        return {"page": entry.slug, "lang": lang, "title": title, "first_s": round(first[0], 3),
                "first_busy_s": round(first[1], 3), "first_quiet_after_s": round(first[2], 1),
                "rerun_p50_s": p50([view[0] for view in again]),
                "rerun_busy_p50_s": p50([view[1] for view in again]),
                "reruns_s": [round(view[0], 3) for view in again],
                "reload_p50_s": p50([view[0] for view in reloaded]),
                "reload_busy_p50_s": p50([view[1] for view in reloaded]),
                "reloads_s": [round(view[0], 3) for view in reloaded]}
    except Exception as exc:        # noqa: BLE001 -- one page's failure is a row, not the end
        return {"page": entry.slug, "lang": lang, "error": f"{type(exc).__name__}: {exc}"[:200]}
    finally:
        context.close()


async def server_reruns(url: str, lang: str, entries, reruns: int, timeout_s: float) -> dict:
    """The server's share of a rerun: {page slug: p50 seconds} of `reruns` reruns of each page
    (after one uncounted first run), sent over the websocket by one session without a browser."""
    tab = Tab(url, timeout_s)
    tab.query_string = f"lang={lang}"
    out = {}
    try:
        await tab.open()
        await tab.rerun()                  # the session's first run: the home page
        for entry in entries:
            name = "home" if entry.is_home else entry.slug
            await tab.rerun(page=name)     # the page's first view in this session
            out[entry.slug] = p50([(await tab.rerun(page=name)).seconds for _ in range(reruns)])
    finally:
        await tab.close()
    return out


def add_server_reruns(rows: list[dict], url: str, entries, reruns: int, timeout_s: float) -> None:
    """Adds each row's server_rerun_p50_s (the script run without the browser's redraw)."""
    for lang in sorted({r["lang"] for r in rows}):
        try:
            seconds = asyncio.run(server_reruns(url, lang, entries, reruns, timeout_s))
        except Exception as exc:      # noqa: BLE001 -- the browser figures still stand
            print(f"server reruns ({lang}) failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        for r in rows:
            if r["lang"] == lang and "error" not in r:
                r["server_rerun_p50_s"] = seconds.get(r["page"])


def _seconds(value, target: float | None = None) -> str:
    if value is None:
        return f"{'-':>9} "
    flag = "!" if target is not None and value > target else " "
    return f"{value:9.3f}{flag}"


def print_table(rows: list[dict]) -> None:
    print(f"{'page':18} {'lang':4} {'first view':>10} {'rerun p50':>10} {'of it srv':>10} "
          f"{'reload p50':>10}  title")
    for r in rows:
        if "error" in r:
            print(f"{r['page']:18} {r['lang']:4} {'error':>10}  {r['error']}")
            continue
        print(f"{r['page']:18} {r['lang']:4} {_seconds(r['first_s'], FIRST_VIEW_TARGET_S)} "
              f"{_seconds(r['rerun_p50_s'], RERUN_TARGET_S)} "
              f"{_seconds(r.get('server_rerun_p50_s'))} {_seconds(r['reload_p50_s'])}  "
              f"{r['title'][:36]}")
    print(f"(! misses the target: first view <= {FIRST_VIEW_TARGET_S} s, rerun p50 <= "
          f"{RERUN_TARGET_S * 1000:.0f} ms; 'of it srv': the server's script run of a rerun, "
          "over a websocket without a browser; the rest of a rerun is Chromium's)")


def summary(rows: list[dict], healthy_s: float, entry: str, load_before, load_after) -> dict:
    ok = [r for r in rows if "error" not in r]
    firsts = [r["first_s"] for r in ok]

    def largest(key):
        values = [r[key] for r in ok if r.get(key) is not None]
        return max(values) if values else None
    return {
        "benchmark": "cold_pages", "entry": f"app/{entry}.py", "cores": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "start_to_healthy_s": round(healthy_s, 2),
        "first_view_max_s": max(firsts) if firsts else None,
        "first_view_p50_s": p50(firsts),
        "rerun_p50_max_s": largest("rerun_p50_s"),
        "server_rerun_p50_max_s": largest("server_rerun_p50_s"),
        "reload_p50_max_s": largest("reload_p50_s"),
        "pages_over_first_view_target": [f"{r['lang']}/{r['page']}" for r in ok
                                         if r["first_s"] > FIRST_VIEW_TARGET_S],
        "pages_over_rerun_target": [f"{r['lang']}/{r['page']}" for r in ok
                                    if r["rerun_p50_s"] and r["rerun_p50_s"] > RERUN_TARGET_S],
        "errors": [f"{r['lang']}/{r['page']}: {r['error']}" for r in rows if "error" in r],
        "rows": rows,
    }


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entry", choices=("serve", "main"), default="serve",
                   help="serve: app/serve.py (warm before healthy; default); main: app/main.py")
    p.add_argument("--reruns", type=int, default=5,
                   help="warm reruns of a page (the 'r' hotkey; their p50), in the browser and "
                        "over the websocket")
    p.add_argument("--reloads", type=int, default=3, help="reloads of a page (their p50)")
    p.add_argument("--langs", default=",".join(LANGUAGES), help="comma-separated, e.g. en")
    p.add_argument("--pages", default="", help="comma-separated slugs (default: every page)")
    p.add_argument("--timeout-s", type=float, default=120, help="one page view at most")
    p.add_argument("--settle-s", type=float, default=1.5,
                   help="uncounted pause after each view and rerun, at least")
    p.add_argument("--quiet-max-s", type=float, default=20,
                   help="... and until Chromium's main thread is quiet, at most this long")
    p.add_argument("--health-timeout-s", type=float, default=600)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing (make browser installs it)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright
    load_before = os.getloadavg()
    print(f"load average (1, 5, 15 min) on {os.cpu_count()} cores: "
          f"{', '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    pages = [registry.lesson(slug) for slug in args.pages.split(",")] \
        if args.pages else registry.PAGES
    with tempfile.NamedTemporaryFile("w+b", prefix="cold-pages-", suffix=".log", delete=False) as log:
        started = time.perf_counter()
        server = start_server(args.entry, port, log)
        try:
            healthy_s = wait_healthy(url, server, args.health_timeout_s)
            print(f"app/{args.entry}.py: start to healthy {healthy_s:.1f} s (log: {log.name})",
                  flush=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--headless"])
                rows = [measure_page(browser, url, lang, entry, args.reruns, args.reloads,
                                     args.timeout_s, args.settle_s, args.quiet_max_s)
                        for lang in args.langs.split(",") for entry in pages]
                browser.close()
            if args.reruns:
                add_server_reruns(rows, url, pages, args.reruns, args.timeout_s)
        finally:
            stop_process(server)
    load_after = os.getloadavg()
    print_table(rows)
    print(f"server start to healthy: {healthy_s:.1f} s; whole benchmark "
          f"{time.perf_counter() - started:.0f} s; load average after: "
          f"{', '.join(f'{x:.2f}' for x in load_after)} on {os.cpu_count()} cores")
    print(json.dumps(summary(rows, healthy_s, args.entry, load_before, load_after),
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
