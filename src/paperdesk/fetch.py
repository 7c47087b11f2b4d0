"""Fetching listings: Hugging Face Daily Papers, arXiv's listing feeds and the
arXiv API, over plain HTTP (the standard library's ``urllib``).

Every request has a timeout for the whole answer (not only each read), a
bounded retry with backoff for what is worth retrying (a timeout, 429 with its
Retry-After, 500/502/503/504), a User-Agent naming paperdesk, and requests to
arXiv at most one every ARXIV_INTERVAL_S seconds (its terms of use ask for
that). Whatever goes wrong is a ``FetchError`` with one line: offline, refused,
an error status, or an answer that is not what was asked for (an HTML error
page, a JSON error object), named by what came back.

A fetch reads every page it needs before anything is imported: a failure
halfway imports nothing. Hosts come from ``HF_ENDPOINT`` (the convention of
the Hugging Face libraries), ``PAPERDESK_ARXIV_RSS`` and ``PAPERDESK_ARXIV_API``
or the ``[fetch]`` settings, so tests and mirrors can point elsewhere.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from paperdesk import __version__
from paperdesk.importers.dailypapers import DumpRejected, ParseResult
from paperdesk.model import arxiv_id_of

USER_AGENT = f"paperdesk/{__version__} (a terminal reader for research papers; Python urllib)"
HF_ENDPOINT = "https://huggingface.co"
ARXIV_RSS = "https://rss.arxiv.org/rss"
ARXIV_API = "https://export.arxiv.org/api/query"
TIMEOUT_S = 30.0
ATTEMPTS = 3
MAX_RETRY_WAIT_S = 60.0
ARXIV_INTERVAL_S = 3.0
MAX_BODY_BYTES = 64 * 2**20
HF_PAGE_LIMIT = 100
HF_MAX_PAGES = 20
MAX_CATCH_UP_DAYS = 14
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")


class FetchError(Exception):
    """A fetch that failed; the message says why in one line."""


@dataclass
class Fetched:
    """One listing read: where from, its day (if it has one), its entries."""

    source: str
    result: ParseResult
    day: date | None = None
    label: str = ""


@dataclass
class Http:
    """The HTTP side of fetching, with its waits injectable for tests."""

    timeout: float | None = None  # TIMEOUT_S
    attempts: int | None = None  # ATTEMPTS
    sleep: Callable[[float], None] | None = None  # pause()
    clock: Callable[[], float] = time.monotonic
    arxiv_interval: float = ARXIV_INTERVAL_S
    _last_arxiv: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Read when made, not when defined: tests and callers may change the defaults.
        self.timeout = TIMEOUT_S if self.timeout is None else self.timeout
        self.attempts = ATTEMPTS if self.attempts is None else self.attempts
        self.sleep = self.sleep or pause

    def get(self, url: str, *, arxiv: bool = False) -> bytes:
        assert self.timeout is not None and self.attempts is not None and self.sleep
        host = urllib.parse.urlsplit(url).netloc or url
        for attempt in range(1, self.attempts + 1):
            if arxiv:
                self._polite()
            try:
                return self._once(url)
            except urllib.error.HTTPError as error:
                wait = _retry_wait(error, attempt)
                if wait is None or attempt == self.attempts:
                    raise FetchError(_status_line(host, error)) from None
                if wait > MAX_RETRY_WAIT_S:
                    raise FetchError(
                        f"{host} asks to wait {wait:.0f} s before asking again ({error.code}); "
                        "try later"
                    ) from None
                self.sleep(wait)
            except TimeoutError:
                if attempt == self.attempts:
                    raise FetchError(
                        f"{host} did not answer within {self.timeout:.0f} s "
                        f"({self.attempts} tries); try later"
                    ) from None
                self.sleep(2.0**attempt)
            except urllib.error.URLError as error:
                reason = error.reason
                if isinstance(reason, TimeoutError | socket.timeout):
                    if attempt == self.attempts:
                        raise FetchError(
                            f"{host} did not answer within {self.timeout:.0f} s; try later"
                        ) from None
                    self.sleep(2.0**attempt)
                    continue
                raise FetchError(
                    f"cannot reach {host} ({_reason(reason)}); are you offline?"
                ) from None
            except http.client.HTTPException as error:
                raise FetchError(
                    f"the answer from {host} was cut short ({type(error).__name__}); try again"
                ) from None
            except (ConnectionError, OSError) as error:
                raise FetchError(
                    f"cannot reach {host} ({_reason(error)}); are you offline?"
                ) from None
        raise FetchError(f"{host}: no answer")  # pragma: no cover - the loop returns or raises

    def _polite(self) -> None:
        now = self.clock()
        if self._last_arxiv is not None and now - self._last_arxiv < self.arxiv_interval:
            (self.sleep or pause)(self.arxiv_interval - (now - self._last_arxiv))
        self._last_arxiv = self.clock()

    def _once(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        assert self.timeout is not None
        deadline = self.clock() + self.timeout
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = response.read1(65536)  # what has arrived: the deadline is checked
                if not chunk:
                    if getattr(response, "length", None):  # fewer bytes than announced
                        raise http.client.IncompleteRead(b"".join(chunks), response.length)
                    break
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise FetchError(f"the answer from {url} is larger than 64 MB; not read")
                chunks.append(chunk)
                if self.clock() > deadline:  # a body that trickles in forever
                    raise TimeoutError
            return b"".join(chunks)


def pause(seconds: float) -> None:
    time.sleep(seconds)


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__


def _retry_wait(error: urllib.error.HTTPError, attempt: int) -> float | None:
    if error.code not in (429, 500, 502, 503, 504):
        return None
    after = error.headers.get("Retry-After") if error.headers else None
    if after:
        after = after.strip()
        if after.isdigit():
            return float(after)
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(after)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            pass
    return 2.0**attempt


def _status_line(host: str, error: urllib.error.HTTPError) -> str:
    body = b""
    try:
        body = error.read(4096)
    except Exception:  # noqa: BLE001 - the status says enough
        pass
    detail = describe(body) if body else ""
    return f"{host} answered {error.code} {error.reason}" + (f": {detail}" if detail else "")


def describe(body: bytes) -> str:
    """What an unexpected answer is, in a few words (for one line)."""
    text = body[:4096].decode("utf-8", "replace").strip()
    if not text:
        return "an empty answer"
    if text.startswith("<"):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        name = " ".join(title.group(1).split())[:80] if title else ""
        return "an HTML page" + (f" ({name!r})" if name else "")
    if text.startswith("{"):
        message = re.search(r'"(?:error|message)"\s*:\s*"([^"]{0,120})', text)
        return "a JSON object" + (f" ({message.group(1)!r})" if message else "")
    return repr(text[:60])


def _decode(body: bytes) -> str:
    return body.decode("utf-8", "replace").lstrip("\ufeff")


# --- Hugging Face -----------------------------------------------------------------------------


def hf_endpoint(configured: str | None = None) -> str:
    return (os.environ.get("HF_ENDPOINT") or configured or HF_ENDPOINT).rstrip("/")


def hf_days(last: date | None, today: date) -> list[date]:
    """The days a plain ``fetch hf`` reads: today, and each day since the last
    fetch, at most MAX_CATCH_UP_DAYS."""
    if last is None or last >= today:
        return [today]
    # The last day fetched is read again: a listing grows during its day.
    first = max(last, today - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def fetch_hf(http: Http, endpoint: str, query: dict[str, str], label: str) -> Fetched:
    """One listing of the Daily Papers API (``date``, ``week`` or ``month``),
    every page of it."""
    from paperdesk.importers import hf

    items: list = []
    base = f"{endpoint}/api/daily_papers"
    for page in range(HF_MAX_PAGES):
        params = {**query, "limit": str(HF_PAGE_LIMIT), **({"p": str(page)} if page else {})}
        url = f"{base}?{urllib.parse.urlencode(params)}"
        body = http.get(url)
        host = urllib.parse.urlsplit(url).netloc
        try:
            got = hf.items_of(_json(body, host))
        except DumpRejected as error:
            raise FetchError(f"{host} {error}") from None
        items.extend(got)
        if len(got) < HF_PAGE_LIMIT:
            break
    try:
        result = hf.parse_items(items, "hf-api")
    except DumpRejected as error:
        raise FetchError(f"the Daily Papers listing {label} {error}") from None
    day = date.fromisoformat(query["date"]) if "date" in query else None
    return Fetched(f"{base}?{urllib.parse.urlencode(query)}", result, day, label)


def _json(body: bytes, host: str):
    import json

    try:
        return json.loads(_decode(body))
    except (json.JSONDecodeError, RecursionError):
        raise FetchError(f"{host} answered {describe(body)}, not the JSON asked for") from None


# --- arXiv ------------------------------------------------------------------------------------


def check_categories(categories: list[str]) -> list[str]:
    bad = [c for c in categories if not _CATEGORY.match(c)]
    if bad:
        raise ValueError(
            f"{bad[0]!r} is not an arXiv category (categories look like cs.LG, math.PR, hep-th)"
        )
    return list(dict.fromkeys(categories))


def arxiv_rss(configured: str | None = None) -> str:
    return (os.environ.get("PAPERDESK_ARXIV_RSS") or configured or ARXIV_RSS).rstrip("/")


def arxiv_api(configured: str | None = None) -> str:
    return os.environ.get("PAPERDESK_ARXIV_API") or configured or ARXIV_API


def fetch_arxiv_feed(http: Http, base: str, categories: list[str]) -> Fetched:
    """Today's announcements in these categories (one request for all)."""
    from paperdesk.importers import arxiv

    url = f"{base}/{'+'.join(categories)}"
    body = http.get(url, arxiv=True)
    host = urllib.parse.urlsplit(url).netloc
    text = _decode(body)
    if not text.lstrip().startswith("<") or re.search(r"<html[\s>]", text[:2000], re.I):
        raise FetchError(f"{host} answered {describe(body)}, not a feed")
    try:
        result = arxiv.parse(text)
    except DumpRejected as error:
        raise FetchError(f"{host}: the answer {error}") from None
    return Fetched(url, result, arxiv.listing_day(result), "+".join(categories))


def arxiv_ids(values: list[str]) -> list[str]:
    """arXiv IDs from what a user typed: IDs, arXiv or Hugging Face paper URLs."""
    found = []
    for value in values:
        hit = arxiv_id_of(value)
        if hit is None and "huggingface.co/papers/" in value:
            hit = arxiv_id_of(value.rstrip("/").rsplit("/", 1)[-1].split("?")[0])
        if hit is None:
            raise ValueError(f"{value!r} is not an arXiv ID or an arXiv / Hugging Face paper URL")
        found.append(hit[0])
    return list(dict.fromkeys(found))


def fetch_arxiv_ids(http: Http, base: str, ids: list[str]) -> tuple[Fetched, list[str]]:
    """These papers' metadata from the arXiv API, and the IDs it did not know."""
    from paperdesk.importers import arxiv

    url = f"{base}?{urllib.parse.urlencode({'id_list': ','.join(ids), 'max_results': len(ids)})}"
    body = http.get(url, arxiv=True)
    host = urllib.parse.urlsplit(url).netloc
    text = _decode(body)
    if not text.lstrip().startswith("<"):
        raise FetchError(f"{host} answered {describe(body)}, not the Atom asked for")
    try:
        result = arxiv.parse(text)
    except DumpRejected as error:
        raise FetchError(f"{host}: the answer {error}") from None
    known = {entry.arxiv_id for entry in result.entries}
    return Fetched(url, result, None, ",".join(ids)), [i for i in ids if i not in known]
