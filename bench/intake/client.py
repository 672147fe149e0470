"""The benchmark's HTTP client, standard library only: an applicant signs in through the login
page (session cookie, then the CSRF token the API wants with a session), and submissions are
multipart POSTs to /api/v1/cases/ with an Idempotency-Key, sent from a pool of threads.

Each request opens its own connection (gunicorn's sync workers close it after every response),
and its latency runs from connecting to the last byte of the response."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

LOGIN = "/accounts/login/"
SUBMIT = "/api/v1/cases/"
TIMEOUT = 60  # seconds a request may take before it counts as failed


@dataclass
class Reply:
    status: int
    body: bytes
    cookies: dict[str, str]
    seconds: float


def request(host, port, method, path, *, body=b"", headers=None, cookies=None) -> Reply:
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    jar = SimpleCookie()
    for line in response.headers.get_all("Set-Cookie") or []:
        jar.load(line)
    return Reply(response.status, data, {k: m.value for k, m in jar.items()}, seconds)


@dataclass
class Applicant:
    """A signed-in applicant: the cookies and the CSRF token of their session."""

    username: str
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return self.cookies["csrftoken"]


def _login_page(host, port) -> tuple[dict[str, str], str]:
    """The cookies a browser gets with the login page (the CSRF cookie), and the form's token."""
    page = request(host, port, "GET", LOGIN)
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if page.status != 200 or not found or "csrftoken" not in page.cookies:
        raise RuntimeError(f"login page: HTTP {page.status}")
    return dict(page.cookies), found[1].decode()


def with_session(host, port, username: str, session_key: str) -> Applicant:
    """An applicant whose session was made beforehand: the CSRF cookie of the login page and
    the session cookie, as a browser holds them after signing in."""
    cookies, _token = _login_page(host, port)
    return Applicant(username, {**cookies, "sessionid": session_key})


def sign_in(host, port, username: str, password: str) -> Applicant:
    """The login page's form, as a browser sends it."""
    cookies, token = _login_page(host, port)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    done = request(
        host,
        port,
        "POST",
        LOGIN,
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        cookies=cookies,
    )
    cookies.update(done.cookies)
    if done.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"login of {username}: HTTP {done.status}")
    return Applicant(username, cookies)


def pdf(size: int) -> bytes:
    """A file that passes the upload checks (a PDF by name and by its first bytes)."""
    head = b"%PDF-1.4\n% yimen intake benchmark\n"
    return head + b"0" * max(0, size - len(head))


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, content) in files.items():
        parts.append(
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Submitter:
    """Builds one submission: the guide's item, a form, a file for each of its two materials."""

    def __init__(self, implementation_code: str, file_size: int):
        self.code = implementation_code
        self.file = pdf(file_size)

    def submit(self, host, port, who: Applicant, n: int) -> Reply:
        body, content_type = multipart(
            {"item": self.code, "form": json.dumps({"shop_name": f"示例小店{n}"})},
            {"materials.0": ("申请书.pdf", self.file), "materials.1": ("场所证明.pdf", self.file)},
        )
        headers = {
            "Content-Type": content_type,
            "X-CSRFToken": who.csrf,
            "Idempotency-Key": f"bench-{n}-{uuid.uuid4().hex[:12]}",
            "Accept": "application/json",
        }
        return request(host, port, "POST", SUBMIT, body=body, headers=headers, cookies=who.cookies)


@dataclass
class Outcome:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    first_failure: str = ""


def run_pool(jobs: list, work, concurrency: int, stop: threading.Event) -> Outcome:
    """Runs `work(job)` → Reply for every job from `concurrency` threads; a reply that is not
    2xx is counted as a failure (by status) and its latency left out."""
    outcome, lock, queue = Outcome(), threading.Lock(), iter(jobs)

    def loop():
        while not stop.is_set():
            with lock:
                job = next(queue, None)
            if job is None:
                return
            try:
                reply = work(job)
            except Exception as exc:
                reply, problem = None, f"{type(exc).__name__}: {exc}"
            else:
                problem = "" if 200 <= reply.status < 300 else f"HTTP {reply.status}"
            with lock:
                if problem:
                    key = problem.split(":")[0]
                    outcome.failures[key] = outcome.failures.get(key, 0) + 1
                    if not outcome.first_failure:
                        body = reply.body[:300].decode(errors="replace") if reply else ""
                        outcome.first_failure = f"{problem} {body}".strip()
                else:
                    outcome.latencies.append(reply.seconds)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        raise
    outcome.seconds = time.perf_counter() - started
    return outcome
