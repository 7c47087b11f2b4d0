"""The interest model on a small library with a known answer: what the
decisions say, too few of them, the ranking of unseen papers, the why of a
score, a muted feature that can no longer raise one, and the measure."""

from __future__ import annotations

import pytest

from paperdesk.interest import (
    Example,
    InterestModel,
    examples,
    meta_of,
    missing,
    rank_measure,
)
from paperdesk.library.state import Flag, PaperState
from paperdesk.model import Paper

pytest.importorskip("sklearn")

RL = [
    "reinforcement learning policy gradient reward agents explore environments",
    "offline reinforcement learning value function conservative policy reward",
    "multi agent reinforcement learning cooperative reward shaping policy",
]
VISION = [
    "image segmentation convolutional vision pixels object detection masks",
    "vision transformer image classification patches pretraining pixels",
    "video object detection tracking frames vision boxes",
]


def paper(n: int, text: str, **fields) -> Paper:
    return Paper(id=f"{n:010x}", title=text.split(" ", 3)[-1].title(), abstract=text, **fields)


def library() -> tuple[list[Example], list[Paper], list[Paper]]:
    liked = [paper(n, RL[n % 3] + f" study {n}", starred=True) for n in range(12)]
    disliked = [paper(100 + n, VISION[n % 3] + f" study {n}", dismissed=True) for n in range(12)]
    unseen = [paper(200, RL[1] + " new"), paper(201, VISION[0] + " new")]
    states = {p.id: PaperState(starred=Flag(True, f"2026-01-{p.id[-2:]}")) for p in liked}
    found = examples([*liked, *disliked], states)
    return found, [*liked, *disliked, *unseen], unseen


def test_examples_label_stars_dismissals_and_reads():
    read = Paper(id="a" * 10, title="Read", read=True)
    star = Paper(id="b" * 10, title="Star", starred=True, read=True)
    gone = Paper(id="c" * 10, title="Gone", dismissed=True, read=True)
    untouched = Paper(id="d" * 10, title="Untouched")
    found = {e.paper.id: (e.label, e.weight) for e in examples([read, star, gone, untouched], {})}
    assert found == {"a" * 10: (0, 0.3), "b" * 10: (1, 1.0), "c" * 10: (0, 1.0)}


def test_too_few_decisions_say_how_many_more():
    found, _all, _unseen = library()
    assert missing(found) is None
    few = [e for e in found if e.label == 1][:3]  # three stars
    message = missing(few)
    assert message is not None
    assert "2 more starred" in message and "5 more 'not for me' or read" in message
    assert "17 more decisions in all" in message


def test_an_unseen_paper_on_the_liked_topic_ranks_first():
    found, corpus, (rl, vision) = library()
    model = InterestModel().fit(found, corpus)
    high, low = model.score([rl, vision])
    assert 0.0 <= low < 0.5 < high <= 1.0
    reasons = model.why(rl)
    assert reasons[0][1] > 0 and any(
        word in reasons[0][0] for word in ("reinforcement", "reward", "policy")
    )


def test_a_muted_feature_raises_nothing():
    found, corpus, (rl, _vision) = library()
    free = InterestModel().fit(found, corpus)
    top = free.why(rl)[0][0]
    muted = InterestModel(muted=frozenset({top})).fit(found, corpus)
    assert all(name != top for name, value in muted.why(rl) if value > 0)
    assert muted.score([rl])[0] <= free.score([rl])[0]


def test_metadata_tokens():
    tokens = meta_of(
        Paper(
            id="e" * 10,
            title="T",
            organization="Renmin University",
            author_names=("Ann Lee",),
            categories=("cs.LG",),
            keywords=("RL",),
        )
    )
    assert tokens == ["cat:cs.lg", "org:renmin university", "au:ann lee", "kw:rl"]


def test_the_measure_of_a_perfect_and_a_reversed_ranking():
    positives = [Paper(id=f"{n:010x}", title="p") for n in range(3)]
    negatives = [Paper(id=f"{n + 100:010x}", title="n") for n in range(8)]
    liked = {p.id for p in positives}

    def perfect(papers):
        return [1.0 if p.id in liked else 0.0 for p in papers]

    def reversed_(papers):
        return [0.0 if p.id in liked else 1.0 for p in papers]

    best = rank_measure(perfect, positives, negatives)
    worst = rank_measure(reversed_, positives, negatives)
    assert (best.ndcg, best.mrr, best.trials) == (1.0, 1.0, 3)
    assert worst.mrr == pytest.approx(0.2) and worst.ndcg == pytest.approx(1 / 2.584962500721156)


def test_train_scores_every_paper_and_list_sorts_by_interest(tmp_path):
    from typer.testing import CliRunner

    from paperdesk.cli import app
    from paperdesk.desk import Desk
    from paperdesk.model import Entry

    runner = CliRunner()
    with Desk(tmp_path / "d") as desk:
        desk.import_entries(
            [Entry(f"Reinforcement study {n}", RL[n % 3]) for n in range(11)]
            + [Entry(f"Vision study {n}", VISION[n % 3]) for n in range(11)]
            + [Entry("Unread reinforcement", RL[0] + " fresh"), Entry("Unread vision", VISION[1])],
            "a.txt",
        )
        ids = {p.title: p.id for p in desk.papers()}
        line, model = desk.train_interest()
        assert model is None and "more" in line and "date order" in line  # too few
        desk.set_starred([ids[f"Reinforcement study {n}"] for n in range(11)])
        desk.set_dismissed([ids[f"Vision study {n}"] for n in range(11)])
        desk.set_read([ids["Unread vision"]], False)
        line, model = desk.train_interest()
        assert model is not None
        assert "learned from 22 decisions (11 liked); scored 24 papers" in line
        unread = desk.papers(sort="interest")
        fresh = [p.title for p in unread if p.title.startswith("Unread")]
        assert fresh == ["Unread reinforcement", "Unread vision"]
        assert all(p.interest is not None and 0 <= p.interest <= 1 for p in unread)
    env = {"PAPERDESK_DATA_DIR": str(tmp_path / "d")}
    shown = runner.invoke(app, ["list", "--sort", "interest", "--json", "--limit", "1"], env=env)
    assert shown.exit_code == 0 and 0.5 < __import__("json").loads(shown.stdout)[0]["interest"]
    result = runner.invoke(app, ["interest"], env=env)
    assert result.exit_code == 0 and "raises: " in result.stdout and "lowers: " in result.stdout
    top = result.stdout.split("raises: ")[1].split(",")[0].strip()
    muted = runner.invoke(app, ["interest", "mute", top], env=env)
    assert muted.exit_code == 0 and "learned from" in muted.stdout
    assert f"muted: {top}" in runner.invoke(app, ["interest"], env=env).stdout
    assert "is not muted" in runner.invoke(app, ["interest", "unmute", "nothing"], env=env).stderr
    assert runner.invoke(app, ["interest", "unmute", top], env=env).exit_code == 0
    report = runner.invoke(app, ["interest", "report"], env=env)
    assert report.exit_code == 0 and "cannot measure yet" in report.stderr


def test_the_time_split_report_on_enough_decisions():
    from paperdesk.interest import Report, time_split_report

    liked = [paper(n, RL[n % 3] + f" item {n}", starred=True) for n in range(20)]
    disliked = [paper(100 + n, VISION[n % 3] + f" item {n}", dismissed=True) for n in range(20)]
    found = []
    for n in range(20):  # alternating in time, so both halves hold both kinds
        found.append(Example(liked[n], 1, 1.0, f"2026-01-01T00:{n:02d}:00Z"))
        found.append(Example(disliked[n], 0, 1.0, f"2026-01-01T00:{n:02d}:30Z"))
    report = time_split_report(found, [*liked, *disliked])
    assert isinstance(report, Report)
    assert (report.trained_on, report.tested_on) == (28, 12)
    assert report.model.ndcg == 1.0 and report.random.ndcg < 1.0


def test_a_paper_imported_after_training_is_scored_and_show_says_why(tmp_path):
    from typer.testing import CliRunner

    from paperdesk.cli import app
    from paperdesk.desk import Desk
    from paperdesk.model import Entry

    with Desk(tmp_path / "d") as desk:
        desk.import_entries(
            [Entry(f"Reinforcement study {n}", RL[n % 3]) for n in range(11)]
            + [Entry(f"Vision study {n}", VISION[n % 3]) for n in range(11)],
            "a.txt",
        )
        ids = {p.title: p.id for p in desk.papers()}
        desk.set_starred([ids[f"Reinforcement study {n}"] for n in range(11)])
        desk.set_dismissed([ids[f"Vision study {n}"] for n in range(11)])
        desk.train_interest()
    (tmp_path / "new.txt").write_text(
        "Daily Papers\n\nA New Reward Paper\n\n"
        + RL[0] * 3
        + "\n\nA New Pixel Paper\n\n"
        + VISION[0] * 3
        + "\n",
        encoding="utf-8",
    )
    with Desk(tmp_path / "d") as desk:  # a fresh process: the model is read from its file
        desk.import_file(tmp_path / "new.txt")
        scored = {p.title: p.interest for p in desk.papers() if p.title.startswith("A New")}
        assert scored["A New Reward Paper"] > 0.5 > scored["A New Pixel Paper"]
        reward = next(p for p in desk.papers() if p.title == "A New Reward Paper")
    shown = CliRunner().invoke(
        app, ["show", reward.id], env={"PAPERDESK_DATA_DIR": str(tmp_path / "d")}
    )
    assert "interest: 0." in shown.stdout and "(+ " in shown.stdout


def _trained_desk(path):
    from paperdesk.desk import Desk
    from paperdesk.model import Entry

    desk = Desk(path)
    desk.import_entries(
        [Entry(f"Reinforcement study {n}", RL[n % 3]) for n in range(11)]
        + [Entry(f"Vision study {n}", VISION[n % 3]) for n in range(11)]
        + [Entry("Unread reinforcement", RL[0] + " fresh"), Entry("Unread vision", VISION[1])],
        "a.txt",
    )
    ids = {p.title: p.id for p in desk.papers()}
    desk.set_starred([ids[f"Reinforcement study {n}"] for n in range(11)])
    desk.set_dismissed([ids[f"Vision study {n}"] for n in range(11)])
    assert desk.train_interest()[1] is not None
    return desk, ids


def test_interest_in_the_query_language_and_the_search_order(tmp_path):
    desk, ids = _trained_desk(tmp_path / "d")
    with desk:
        scores = {p.id: p.interest for p in desk.papers()}
        high = {pid for pid, s in scores.items() if s >= 0.7}
        low = {pid for pid, s in scores.items() if s < 0.3}
        assert high and low and ids["Unread reinforcement"] in high
        assert ids["Unread vision"] in low
        found = desk.search("interest:>=0.7", limit=None)
        assert {h.paper.id for h in found.hits} == high and found.total == len(high)
        assert {h.paper.id for h in desk.search("interest:<0.3", limit=None).hits} == low
        middle = desk.search("interest:[0.3 TO 0.699]", limit=None)
        assert {h.paper.id for h in middle.hits} == set(scores) - high - low
        both = desk.search("fresh interest:>=0.7", limit=None)
        assert [h.paper.id for h in both.hits] == [ids["Unread reinforcement"]]
        assert desk.search("-interest:>=0.7", limit=None).total == len(scores) - len(high)
        # By interest: the scores in order, whatever the relevance.
        ranked = desk.search("study OR unread", sort="interest", limit=None)
        values = [scores[h.paper.id] for h in ranked.hits]
        assert values == sorted(values, reverse=True) and len(values) == len(scores)
        assert desk.search_ids("study", sort="interest").ids == [
            h.paper.id for h in desk.search("study", sort="interest", limit=None).hits
        ]
        # A retrain's new scores are seen by the next search (no stale cache).
        desk.library.set_interest({ids["Unread vision"]: 0.99})
        assert ids["Unread vision"] in {h.paper.id for h in desk.search("interest:>=0.7").hits}
        assert desk.search("vision", sort="interest").hits[0].paper.id == ids["Unread vision"]


def test_a_paper_without_a_score_comes_after_the_scored_and_matches_no_range(tmp_path):
    from paperdesk.model import Entry

    desk, _ids = _trained_desk(tmp_path / "d")
    with desk:
        desk.model_path.unlink()  # no model: an import leaves the new paper unscored
        desk._model = None
        desk.import_entries([Entry("Study of unscored things", "a study")], "b.txt")
        new = next(p for p in desk.papers() if p.title.startswith("Study of unscored"))
        assert new.interest is None
        ranked = desk.search("study", sort="interest", limit=None).hits
        assert ranked[-1].paper.id == new.id
        assert desk.papers(sort="interest")[-1].id == new.id
        assert new.id not in {h.paper.id for h in desk.search("interest:[0 TO 1]").hits}


def test_interest_queries_read_wrong_values_as_one_line():
    from paperdesk.query import QueryError, Range, parse

    assert parse("interest:>=0.7") == Range("interest", 700, None)
    assert parse("interest:>0.7") == Range("interest", 701, None)
    assert parse("interest:<0.2") == Range("interest", None, 199)
    assert parse("interest:0.7") == Range("interest", 700, 799)  # what reads 0.7
    assert parse("interest:0.75") == Range("interest", 750, 759)
    assert parse("interest:[0.4 TO 0.6]") == Range("interest", 400, 600)
    for bad in ("interest:2", "interest:high", "interest:0.1234", "interest:>=-1"):
        with pytest.raises(QueryError, match="interest"):
            parse(bad)


def test_the_cli_sorts_a_search_by_interest_and_filters_by_it(tmp_path):
    import json

    from typer.testing import CliRunner

    from paperdesk.cli import app

    desk, ids = _trained_desk(tmp_path / "d")
    desk.close()
    env = {"PAPERDESK_DATA_DIR": str(tmp_path / "d")}
    runner = CliRunner()
    result = runner.invoke(app, ["search", "unread", "--sort", "interest", "--json"], env=env)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    shown = [r["id"] for r in found["results"]]
    assert shown == [ids["Unread reinforcement"], ids["Unread vision"]]
    assert found["results"][0]["interest"] > found["results"][1]["interest"]
    result = runner.invoke(app, ["search", "interest:>=2"], env=env)
    assert result.exit_code == 2 and "interest takes a number from 0 to 1" in result.stderr


def test_a_version_7_library_keeps_its_scores_beside_the_papers(tmp_path):
    import shutil
    import sqlite3
    from pathlib import Path

    from paperdesk.desk import Desk
    from paperdesk.library.schema import SCHEMA_VERSION

    data = tmp_path / "d"
    shutil.copytree(Path(__file__).parent.parent / "fixtures" / "library-v7", data)
    before = sqlite3.connect(data / "library.sqlite3")
    old = dict(before.execute("SELECT paper_id, score FROM interest"))
    before.close()
    with Desk(data) as desk:
        assert desk.count() == 30 and desk.counts().starred == 7
        papers = desk.papers(sort="interest")
        assert {p.id: p.interest for p in papers} == old
        assert [p.interest for p in papers] == sorted(old.values(), reverse=True)
        assert sum(p.dismissed for p in papers) == 7
    after = sqlite3.connect(data / "library.sqlite3")
    assert after.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    tables = {row[0] for row in after.execute("SELECT name FROM sqlite_master")}
    assert "interest" not in tables and "papers_by_interest" in tables


def test_kept_word_counts_give_the_scores_a_fresh_count_gives(tmp_path):
    from paperdesk.model import Entry

    desk, ids = _trained_desk(tmp_path / "d")
    with desk:
        assert desk.counts_path.exists()
        # A paper's text changes (a newer version's abstract) and a paper arrives.
        desk.import_entries(
            [Entry("Unread vision", VISION[1], arxiv_id="2601.00001", arxiv_version=1)], "v1.xml"
        )
        desk.import_entries(
            [
                Entry(
                    "Unread vision",
                    RL[2] + " now about reward",
                    arxiv_id="2601.00001",
                    arxiv_version=2,
                ),
                Entry("Brand new", VISION[2]),
            ],
            "b.txt",
        )
        assert "reward" in desk.paper(ids["Unread vision"]).abstract
        desk.train_interest()
        kept = {p.id: p.interest for p in desk.papers()}
        desk.counts_path.write_bytes(b"damaged")  # counted again from nothing
        desk.train_interest()
        fresh = {p.id: p.interest for p in desk.papers()}
    assert kept.keys() == fresh.keys() and len(kept) == 25
    assert all(abs(kept[k] - fresh[k]) < 1e-6 for k in kept)
    assert kept[ids["Unread vision"]] > 0.5  # its new words were counted, not the old


@pytest.mark.parametrize("hex_ids", [True, False])
def test_scores_are_matched_to_documents_by_id(hex_ids):
    import numpy as np

    from paperdesk.search.postings import Postings

    rng = np.random.default_rng(3)
    names = [f"{n:010x}" if hex_ids else f"paper-{n:04d}" for n in rng.permutation(5000)[:2000]]
    p = Postings.__new__(Postings)
    p.doc_count, p._keys, p._interest = len(names), np.array(names, dtype="S"), None
    scored = {name: float(n) / 2000 for n, name in enumerate(names) if n % 3}  # a third unscored
    values = p.interest(1, lambda: list(scored.items()))
    for doc, name in enumerate(names):
        if name in scored:
            assert values[doc] == scored[name]
        else:
            assert np.isnan(values[doc])
    assert p.interest(1, lambda: []) is values  # kept until the generation changes
    assert np.isnan(p.interest(2, lambda: [])).all()
