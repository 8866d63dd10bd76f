"""Open every notebook in JupyterLab (headless Chromium), save it without edits, close it.

Measures how far the committed notebooks are from the form JupyterLab writes: afterwards
`git diff --stat notebooks/` shows what one open-and-save changes. Needs a running server:

    jupyter lab --no-browser --port 8899 --IdentityProvider.token=jlabdiff   # from the repo root
    python scripts/jupyterlab_save_diff.py --url http://127.0.0.1:8899 --token jlabdiff  # playwright's venv

Playwright (Python) drives the system's Chromium (--chromium); nothing is executed: the kernel
JupyterLab starts on open is left idle and shut down when the tab is closed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright


def api(url: str, token: str, path: str, method: str = "GET"):
    req = urllib.request.Request(f"{url}/api/{path}", method=method)
    req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req) as reply:
        body = reply.read()
    return json.loads(body) if body else None


def kernels(url: str, token: str) -> list[dict]:
    try:
        return api(url, token, "kernels")
    except urllib.error.HTTPError:  # jupyter_server can fail to list a kernel while it starts
        return []


def dismiss_dialogs(page) -> None:
    while page.locator(".jp-Dialog").count():  # kernel choice, trust, ...: cancel, run nothing
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)


def wait_for_idle_kernel(page, url: str, token: str, timeout_ms: int) -> None:
    """The kernel JupyterLab starts on open has answered (its language_info reaches the model)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not any(k["execution_state"] == "idle" and k["connections"] for k in kernels(url, token)):
        dismiss_dialogs(page)  # a kernel chooser means no kernel: give up waiting for one
        if time.monotonic() > deadline or page.locator(".jp-Dialog").count():
            return
        page.wait_for_timeout(250)
    page.wait_for_timeout(1000)


def open_save_close(page, url: str, token: str, rel: str, timeout_ms: int) -> tuple[float, bool]:
    before = api(url, token, f"contents/{rel}?content=0")["last_modified"]
    start = time.perf_counter()
    page.goto(f"{url}/lab/tree/{rel}?token={token}&reset", timeout=timeout_ms)
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Cell").first.wait_for(timeout=timeout_ms)
    dismiss_dialogs(page)
    wait_for_idle_kernel(page, url, token, timeout_ms)
    dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty").count() > 0  # changed before any edit
    panel.locator(".jp-Notebook").click(position={"x": 5, "y": 5})  # focus, command mode
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + timeout_ms / 1000
    while api(url, token, f"contents/{rel}?content=0")["last_modified"] == before:
        dismiss_dialogs(page)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{rel} was not saved")
        page.wait_for_timeout(250)
    seconds = time.perf_counter() - start
    page.keyboard.press("Alt+w")  # File > Close Tab
    page.wait_for_timeout(500)
    dismiss_dialogs(page)
    for session in api(url, token, "sessions"):  # the kernel started on open, never used
        api(url, token, f"sessions/{session['id']}", method="DELETE")
    return seconds, dirty


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8899")
    parser.add_argument("--token", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--timeout", type=int, default=180, help="seconds per notebook")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(Path("notebooks").glob("*.ipynb"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        print(f"Chromium {browser.version}", flush=True)
        for path in notebooks:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            seconds, dirty = open_save_close(page, args.url, args.token, path.as_posix(), args.timeout * 1000)
            state = "marked changed on open" if dirty else "unchanged on open"
            print(f"{path.name}: {state}, saved in {seconds:.1f} s", flush=True)
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
