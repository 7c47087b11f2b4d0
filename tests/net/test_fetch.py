"""``paperdesk fetch`` and ``paperdesk add`` against a real HTTP server on
127.0.0.1 that the tests start (never the internet): the shared samples as
answers, and broken ones: 500, 429 with Retry-After, a body slower than the
timeout, truncated JSON, an HTML error page, a JSON error object, a refused
connection."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperdesk import fetch
from paperdesk.cli import app
from paperdesk.desk import Desk
from tests.conftest import shared_sample
from tests.httpserver import LocalServer, Reply

runner = CliRunner()
HF_DAY = "/api/daily_papers"


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


@pytest.fixture
def server():
    with LocalServer() as local:
        yield local


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without their real waits (the waits asked for are recorded)."""
    waits: list[float] = []
    monkeypatch.setattr(fetch, "pause", waits.append)
    monkeypatch.setattr(fetch, "TIMEOUT_S", 1.0)
    return waits  # type: ignore[return-value]


def hf_sample() -> bytes:
    return shared_sample("hf_api/hfnl_2025-10-17.json").read_bytes()


def titles(papers) -> set[str]:
    return {p.title for p in papers}


def test_fetch_hf_imports_that_day_from_hf_endpoint(server, monkeypatch):
    server.route(HF_DAY, Reply(hf_sample(), headers={"Content-Type": "application/json"}))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    result = run("fetch", "hf", "--date", "2025-10-17")
    assert "hf 2025-10-17: 35 papers: 35 new, 0 updated, 0 unchanged, 0 warnings" in result.stdout
    path, headers = server.requests[0]
    assert path == "/api/daily_papers?date=2025-10-17&limit=100"
    assert headers["User-Agent"].startswith("paperdesk/")
    with Desk() as desk:
        paper = desk.paper("2510.14545")
        assert paper.title == "Agentic Entropy-Balanced Policy Optimization"
        assert paper.upvotes == 61 and paper.comments == 2 and paper.github_stars == 663
        assert paper.author_names[:2] == ("Guanting Dong", "Licheng Bao")
        assert paper.sources[0].page_date == "2025-10-17"
    # Search finds it by author and by arXiv ID.
    assert "Agentic Entropy" in run("search", "author:dong arxiv:2510.14545").stdout
    again = run("fetch", "hf", "--date", "2025-10-17")
    assert "35 papers: 0 new, 0 updated, 35 unchanged" in again.stdout


def test_fetch_hf_follows_pages_and_week(server, monkeypatch):
    items = json.loads(hf_sample())
    monkeypatch.setattr(fetch, "HF_PAGE_LIMIT", 20)
    server.route(
        HF_DAY,
        Reply(json.dumps(items[:20]).encode()),
        Reply(json.dumps(items[20:]).encode()),
    )
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    result = run("fetch", "hf", "--week", "2025-W42")
    assert "hf week 2025-W42: 35 papers: 35 new" in result.stdout
    assert [p for p, _ in server.requests] == [
        "/api/daily_papers?week=2025-W42&limit=20",
        "/api/daily_papers?week=2025-W42&limit=20&p=1",
    ]


def test_fetch_hf_by_default_catches_up_since_the_last_fetch(server, monkeypatch):
    from datetime import date

    server.route(HF_DAY, Reply(b"[]"))
    with Desk() as desk:
        http = fetch.Http()
        desk.fetch_hf(endpoint=server.url, http=http, today=date(2025, 10, 10))
        desk.fetch_hf(endpoint=server.url, http=http, today=date(2025, 10, 13))
        desk.fetch_hf(endpoint=server.url, http=http, today=date(2025, 11, 30))
    days = [p.split("date=")[1].split("&")[0] for p, _ in server.requests]
    # Today; then again the last day (a listing grows during its day) up to today;
    # then at most 14 days back.
    assert days[:5] == ["2025-10-10", "2025-10-10", "2025-10-11", "2025-10-12", "2025-10-13"]
    assert days[5:] == [f"2025-11-{d}" for d in range(17, 31)]


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply(b"<html><title>502 Bad Gateway</title></html>", 200), "an HTML page ('502 Bad"),
        (
            Reply(b'{"error": "Invalid date"}', 200),
            "error response from Hugging Face: Invalid date",
        ),
        (Reply(b'[{"paper": {"id": "2510.1'), "not the JSON asked for"),
        (Reply(b"[\"{'paper': {}}\"]"), "Python str(dict) text"),
        (Reply(b"nope", 404), "answered 404"),
        (Reply(b'[{"paper": {"id": "1"}, "title": "A paper"}]', declared_length=500), "cut short"),
    ],
)
def test_fetch_hf_unexpected_answers_are_one_line_and_import_nothing(
    server, monkeypatch, quick, reply, says
):
    server.route(HF_DAY, reply)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    result = run("fetch", "hf", "--date", "2025-10-17", code=1)
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert says in message and "nothing was imported" in message
    with Desk() as desk:
        assert desk.count() == 0


def test_a_failure_on_a_later_day_imports_no_day(server, monkeypatch, quick):
    from datetime import date

    server.route(HF_DAY, Reply(hf_sample()), Reply(b"oops", 404))
    with Desk() as desk:
        desk.library.set_meta("hf_fetched", "2025-10-16")
        with pytest.raises(fetch.FetchError):
            desk.fetch_hf(endpoint=server.url, today=date(2025, 10, 17))
        assert desk.count() == 0
        assert desk.library.meta_value("hf_fetched") == "2025-10-16"


def test_retries_500_and_429_with_retry_after_then_succeeds(server, monkeypatch, quick):
    waits = quick
    server.route(
        HF_DAY,
        Reply(b"busy", 500),
        Reply(b"slow down", 429, headers={"Retry-After": "7"}),
        Reply(hf_sample()),
    )
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    result = run("fetch", "hf", "--date", "2025-10-17")
    assert "35 new" in result.stdout
    assert waits == [2.0, 7.0]  # backoff, then what the server asked for
    assert len(server.requests) == 3


def test_gives_up_after_bounded_retries(server, monkeypatch, quick):
    server.route(HF_DAY, Reply(b"busy", 503))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    result = run("fetch", "hf", "--date", "2025-10-17", code=1)
    assert "answered 503" in result.stderr
    assert len(server.requests) == fetch.ATTEMPTS


def test_a_retry_after_too_long_is_not_waited_for(server, monkeypatch, quick):
    server.route(HF_DAY, Reply(b"later", 429, headers={"Retry-After": "3600"}))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    result = run("fetch", "hf", "--date", "2025-10-17", code=1)
    assert "asks to wait 3600 s" in result.stderr and quick == []


def test_a_body_slower_than_the_timeout_times_out(server, monkeypatch, quick):
    server.route(HF_DAY, Reply(b"[" + b" " * 200 + b"]", trickle=0.02))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    started = time.monotonic()
    result = run("fetch", "hf", "--date", "2025-10-17", code=1)
    assert "did not answer within 1 s" in result.stderr
    assert time.monotonic() - started < 15


def test_offline_is_one_line_and_exit_1(monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    result = run("fetch", "hf", "--date", "2025-10-17", code=1)
    assert result.stderr.count("\n") == 1
    assert "cannot reach 127.0.0.1" in result.stderr and "offline" in result.stderr


def test_bad_dates_are_usage_errors():
    assert "is not a day" in run("fetch", "hf", "--date", "2025-13-40", code=2).stderr
    assert "is not a week" in run("fetch", "hf", "--week", "42", code=2).stderr
    assert (
        "one of --date"
        in run("fetch", "hf", "--date", "2025-10-17", "--month", "2025-10", code=2).stderr
    )


# --- arXiv ----------------------------------------------------------------------------------


def feed_sample() -> bytes:
    return shared_sample("arxiv_rss/zad_atom_cs.AI_2025-08-20.xml").read_bytes()


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
     version="2.0"><channel><title>cs.AI updates on arXiv.org</title>
<pubDate>Wed, 20 Aug 2025 00:00:00 -0400</pubDate>
<item><title>Mitigating Easy Option Bias in Multiple-Choice Question Answering</title>
<link>https://arxiv.org/abs/2508.13428</link>
<description>arXiv:2508.13428v2 Announce Type: replace
Abstract: A second version of   the abstract.</description>
<guid isPermaLink="false">oai:arXiv.org:2508.13428v2</guid><category>cs.CV</category>
<pubDate>Thu, 21 Aug 2025 00:00:00 -0400</pubDate><arxiv:announce_type>replace</arxiv:announce_type>
<dc:creator>Hao Zhang, Chen Li, Basura Fernando</dc:creator></item>
<item><title>A Paper Never Announced Here</title><link>https://arxiv.org/abs/2301.00001</link>
<description>arXiv:2301.00001v3 Announce Type: replace-cross
Abstract: Old.</description><arxiv:announce_type>replace-cross</arxiv:announce_type></item>
<item><title>Brand New Work</title><link>https://arxiv.org/abs/2508.20000</link>
<description>arXiv:2508.20000v1 Announce Type: new
Abstract: Something new.</description><category>cs.AI</category>
<arxiv:announce_type>new</arxiv:announce_type><dc:creator>Ann Lee and Bo Chen</dc:creator></item>
</channel></rss>"""


def test_fetch_arxiv_imports_the_feed_and_again_changes_nothing(server, monkeypatch):
    server.route("/rss/cs.AI", Reply(feed_sample(), headers={"Content-Type": "application/xml"}))
    monkeypatch.setenv("PAPERDESK_ARXIV_RSS", server.url + "/rss")
    first = run("fetch", "arxiv", "cs.AI")
    assert "arxiv cs.AI: 7 papers: 7 new, 0 updated, 0 unchanged, 0 warnings" in first.stdout
    second = run("fetch", "arxiv", "cs.AI")
    assert "7 papers: 0 new, 0 updated, 7 unchanged" in second.stdout
    with Desk() as desk:
        paper = desk.paper("2508.13426")
        assert paper.categories == ("cs.CL", "cs.AI")
        assert paper.author_names == ("Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang")
        assert paper.abstract.startswith("As large language models (LLMs) increasingly")
        assert paper.published.isoformat() == "2025-08-20"


def test_a_replacement_updates_a_known_paper_and_adds_no_paper(server, monkeypatch):
    server.route("/rss/cs.AI", Reply(feed_sample()))
    server.route("/rss/cs.AI+cs.CV", Reply(RSS))
    monkeypatch.setenv("PAPERDESK_ARXIV_RSS", server.url + "/rss")
    run("fetch", "arxiv", "cs.AI")
    result = run("fetch", "arxiv", "cs.AI", "cs.CV")
    assert "2 papers: 1 new, 1 updated, 0 unchanged" in result.stdout
    assert "1 replacement (new versions) of papers not in the library skipped" in result.stderr
    with Desk() as desk:
        assert desk.count() == 8
        paper = desk.paper("2508.13428")
        assert paper.arxiv_version == 2
        assert paper.abstract == "A second version of the abstract."
        assert desk.paper("2508.20000").author_names == ("Ann Lee", "Bo Chen")


def test_a_feed_error_is_one_line(server, monkeypatch):
    error = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed error for query: '
        b"cs.XX</title><description>Invalid category; valid ones are listed at "
        b"https://arxiv.org/category_taxonomy</description></channel></rss>"
    )
    server.route("/rss/cs.XX", Reply(error))
    monkeypatch.setenv("PAPERDESK_ARXIV_RSS", server.url + "/rss")
    result = run("fetch", "arxiv", "cs.XX", code=1)
    assert "arXiv feed error: Invalid category" in result.stderr
    assert result.stderr.count("\n") == 1


def test_fetch_arxiv_refuses_what_is_not_a_category():
    assert "not an arXiv category" in run("fetch", "arxiv", "cs.AI;rm", code=2).stderr
    assert "name the categories" in run("fetch", "arxiv", code=2).stderr


def test_fetch_alone_reads_the_config(server, monkeypatch, data_dir: Path):
    server.route("/rss/cs.AI", Reply(feed_sample()))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.toml").write_text(
        f'[fetch]\nhf = false\narxiv = ["cs.AI"]\narxiv_rss = "{server.url}/rss"\n'
    )
    assert "7 papers: 7 new" in run("fetch").stdout


def test_arxiv_requests_are_spaced(monkeypatch):
    slept: list[float] = []
    now = [100.0]
    http = fetch.Http(sleep=slept.append, clock=lambda: now[0])
    http._polite()
    now[0] += 1.0
    http._polite()
    assert slept == [pytest.approx(fetch.ARXIV_INTERVAL_S - 1.0)]


# --- add by ID ------------------------------------------------------------------------------


def api_answer(ids: list[str]) -> bytes:
    """The shared arXiv API sample, cut down to the entries of these IDs."""
    text = shared_sample("arxiv_api/rsxiv_query_electron_proton_2025-08-20_classic.xml").read_text()
    head, *entries = text.split("<entry>")
    kept = [e for e in entries if any(f"/abs/{i}v" in e for i in ids)]
    body = head + "".join("<entry>" + e for e in kept)
    return (body if body.rstrip().endswith("</feed>") else body + "</feed>").encode()


def test_add_by_id_and_url_stars_and_reports_unknown_ids(server, monkeypatch):
    server.route("/api/query", Reply(api_answer(["2507.06488", "hep-ph/9411242"])))
    monkeypatch.setenv("PAPERDESK_ARXIV_API", server.url + "/api/query")
    result = run(
        "add",
        "2507.06488",
        "https://arxiv.org/abs/hep-ph/9411242v1",
        "https://huggingface.co/papers/2510.99999",
        "--star",
        code=1,
    )
    assert "2 papers: 2 new" in result.stdout
    assert "arXiv has no paper 2510.99999" in result.stderr
    path, _ = server.requests[0]
    assert "id_list=2507.06488%2Chep-ph%2F9411242%2C2510.99999" in path
    with Desk() as desk:
        assert desk.paper("hep-ph/9411242").starred
        paper = desk.paper("2507.06488")
        assert paper.starred and paper.pdf and paper.pdf.startswith("https://arxiv.org/pdf/")


def test_add_refuses_what_is_not_an_id():
    assert "is not an arXiv ID" in run("add", "hello", code=2).stderr


def test_an_arxiv_api_error_entry_is_one_line(server, monkeypatch):
    error = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        b"<id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id>"
        b"<title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>"
    )
    server.route("/api/query", Reply(error))
    monkeypatch.setenv("PAPERDESK_ARXIV_API", server.url + "/api/query")
    result = run("add", "2507.06488", code=1)
    assert "arXiv API error: incorrect id format for 1234" in result.stderr


def test_fetch_runs_as_a_real_process(server, tmp_path):
    server.route(HF_DAY, Reply(hf_sample()))
    env = {
        "PATH": "/usr/bin:/bin",
        "HF_ENDPOINT": server.url,
        "PAPERDESK_DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "paperdesk", "fetch", "hf", "--date", "2025-10-17"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "35 new" in done.stdout
