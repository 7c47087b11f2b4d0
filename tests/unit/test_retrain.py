"""The background retrain after the command line's decisions (paperdesk.retrain),
with real processes: ``paperdesk star`` returns at once, a child learns again,
at most one runs per data directory, and none starts without a model."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from paperdesk import retrain
from paperdesk.desk import TRAINED_SEQ, Desk
from paperdesk.model import Entry

pytest.importorskip("sklearn")

RL = "reinforcement learning policy gradient reward agents explore environments"
VISION = "image segmentation convolutional vision pixels object detection masks"


def library(path, train: bool = True) -> dict[str, str]:
    with Desk(path) as desk:
        desk.import_entries(
            [Entry(f"Reinforcement study {n}", f"{RL} {n}") for n in range(12)]
            + [Entry(f"Vision study {n}", f"{VISION} {n}") for n in range(12)]
            + [Entry("Pixels and policies", f"{VISION} {RL}")],
            "a.txt",
        )
        ids = {p.title: p.id for p in desk.papers()}
        desk.set_starred([ids[f"Reinforcement study {n}"] for n in range(11)])
        desk.set_dismissed([ids[f"Vision study {n}"] for n in range(11)])
        if train:
            desk.train_interest()
    return ids


def cli(path, *args: str, background: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PAPERDESK_DATA_DIR=str(path))
    env.pop("PAPERDESK_NO_BACKGROUND", None)
    if not background:
        env["PAPERDESK_NO_BACKGROUND"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "paperdesk", *args], env=env, capture_output=True, text=True
    )


def trained_seq(path) -> tuple[int, int]:
    with Desk(path, read_only=True) as desk:
        return int(desk.library.meta_value(TRAINED_SEQ) or 0), desk.library.max_seq()


def wait_until_fresh(path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        trained, latest = trained_seq(path)
        if trained == latest and not retrain.running(path):
            return
        time.sleep(0.2)
    raise AssertionError(f"no retrain within {timeout} s: {trained_seq(path)}")


def test_a_star_on_the_command_line_is_learned_in_the_background(tmp_path):
    data = tmp_path / "d"
    ids = library(data)
    target = ids["Vision study 11"]
    with Desk(data) as desk:
        before = desk.paper(target).interest
    assert trained_seq(data)[0] == trained_seq(data)[1]
    done = cli(data, "star", target)
    assert done.returncode == 0 and "starred 1 paper" in done.stdout
    assert trained_seq(data)[0] < trained_seq(data)[1]  # not learned on the command itself
    wait_until_fresh(data)
    with Desk(data) as desk:
        assert desk.paper(target).interest > before  # a liked vision paper now weighs


def test_a_burst_of_decisions_starts_one_retrain_at_a_time(tmp_path):
    data = tmp_path / "d"
    ids = library(data)
    for n in range(12):  # read the rest one command at a time, as a script would
        for title in (f"Reinforcement study {n}", f"Vision study {n}"):
            cli(data, "read", ids[title])
    wait_until_fresh(data)
    # Every decision is learned, and the lock is free again.
    assert not retrain.running(data)
    assert trained_seq(data)[0] == trained_seq(data)[1]


def test_no_retrain_without_a_model_or_when_turned_off(tmp_path, monkeypatch):
    data = tmp_path / "d"
    ids = library(data, train=False)  # the user never asked for a model
    cli(data, "star", ids["Vision study 11"])
    time.sleep(retrain.SETTLE_S + 0.5)
    assert not (data / "interest-model.pickle").exists()
    assert not retrain.running(data)
    with Desk(data) as desk:
        desk.train_interest()
    cli(data, "star", ids["Vision study 10"], background=False)
    time.sleep(retrain.SETTLE_S + 0.5)
    assert trained_seq(data)[0] < trained_seq(data)[1]  # PAPERDESK_NO_BACKGROUND=1
    monkeypatch.setenv("PAPERDESK_NO_BACKGROUND", "1")
    assert retrain.start(data) is False


def test_a_second_retrain_leaves_the_work_to_the_running_one(tmp_path):
    data = tmp_path / "d"
    library(data)
    with retrain._held(data) as free:
        assert free and retrain.running(data)
        assert retrain.run(data, settle=0) == 0  # busy: returns at once
    with Desk(data) as desk:
        desk.set_read([p.id for p in desk.papers(limit=1)], True)
    assert retrain.run(data, settle=0) == 1 and trained_seq(data)[0] == trained_seq(data)[1]
    assert retrain.run(data, settle=0) == 0  # nothing new to learn
