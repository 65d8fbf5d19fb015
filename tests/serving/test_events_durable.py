"""The event log survives crashes and restarts: torn tails, directory fsync, retention, replay."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from recsys.core.event_log import read_events
from recsys.core.workspace import Workspace
from serving.app import create_app
from serving.events import EventLog, replay
from serving.sessions import SessionStore
from serving.settings import Settings
from serving.state import events_cutoff
from tests.serving.conftest import API_KEY

NOON = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _row(user_id: int, item_id: int, **extra) -> dict:
    return {
        "user_id": user_id,
        "item_id": item_id,
        "timestamp": NOON,
        "kind": "view",
        "rating": None,
        "review_text": None,
        "watch_fraction": None,
        **extra,
    }


def test_append_after_a_torn_tail_starts_a_new_line(tmp_path):
    log = EventLog(tmp_path / "events")
    path = log.append([_row(1, 100)], now=NOON)
    with open(path, "ab") as fh:  # what a crash in the middle of a write leaves behind
        fh.write(b'{"user_id": 1, "item_id": 10')
    log.append([_row(2, 200)], now=NOON)
    found, bad = log.read()
    assert [(e.user_id, e.item_id) for e in found] == [(1, 100), (2, 200)] and bad == 1
    frame, unreadable = read_events(tmp_path / "events")  # what `recsys train` reads
    assert sorted(frame["item_id"].to_list()) == [100, 200] and unreadable == 1


def test_reader_skips_what_it_cannot_read_and_counts_it(tmp_path):
    directory = tmp_path / "events"
    directory.mkdir()
    good = json.dumps({**_row(1, 100, rating=4.0), "timestamp": NOON.isoformat()})
    lines = [
        good,
        "not json",
        "[1, 2]",
        json.dumps({"user_id": "x", "item_id": 1, "timestamp": NOON.isoformat()}),
        json.dumps({"user_id": 1, "item_id": 2}),  # no time at all
        json.dumps({"user_id": 1, "item_id": 3, "timestamp": "yesterday"}),
        json.dumps({"user_id": 1, "item_id": 4, "timestamp": NOON.isoformat(), "rating": "5"}),
        "",
    ]
    text = "\n".join(lines).encode() + b"\n\xff\xfe not UTF-8\n"
    (directory / "events-2025-06-01.jsonl").write_bytes(text)
    (directory / "events-notaday.jsonl").write_text(good + "\n")  # not a log file: ignored
    found, bad = EventLog(directory).read()
    assert [(e.item_id, e.rating, e.received_at) for e in found] == [(100, 4.0, NOON)]
    assert bad == 7


def test_a_new_file_is_fsynced_into_its_directory(tmp_path, monkeypatch):
    synced_dirs: list[bool] = []
    real_fsync = os.fsync

    def fsync(fd):
        synced_dirs.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    log = EventLog(tmp_path / "events")
    log.append([_row(1, 100)], now=NOON)
    assert synced_dirs.count(False) == 1 and synced_dirs.count(True) == 2  # file, events/, ws
    synced_dirs.clear()
    log.append([_row(1, 101)], now=NOON + timedelta(hours=1))  # same day, same file
    assert synced_dirs == [False]
    synced_dirs.clear()
    log.append([_row(1, 102)], now=NOON + timedelta(days=1))  # a new day: a new name to sync
    assert synced_dirs == [False, True]  # file, then events/


def test_retention_deletes_old_days_only(tmp_path):
    directory = tmp_path / "events"
    log = EventLog(directory, retention_days=7)
    for days_ago in (30, 8, 7, 1):
        log.append([_row(1, 100 + days_ago)], now=NOON - timedelta(days=days_ago))
    (directory / "events-keep-me.jsonl").write_text("{}\n")
    assert sorted(p.name for p in directory.iterdir()) == [
        "events-2025-05-24.jsonl",
        "events-2025-05-25.jsonl",
        "events-2025-05-31.jsonl",
        "events-keep-me.jsonl",
    ]
    log.append([_row(1, 100)], now=NOON)  # today's first event prunes again: 8 days ago goes
    assert [p.name[7:17] for p in sorted(directory.glob("events-2025-*"))] == [
        "2025-05-25",
        "2025-05-31",
        "2025-06-01",
    ]
    keep_all = EventLog(tmp_path / "all", retention_days=None)
    for days_ago in (400, 0):
        keep_all.append([_row(1, 100)], now=NOON - timedelta(days=days_ago))
    assert len(list((tmp_path / "all").iterdir())) == 2


def test_replay_starts_at_the_runs_cutoff(tmp_path):
    log = EventLog(tmp_path / "events")
    log.append([_row(1, 100)], now=NOON - timedelta(days=1))  # trained on
    log.append([_row(1, 101, watch_fraction=0.1)], now=NOON)  # after the cut-off
    log.append([_row(1, 102)], now=NOON + timedelta(days=1))
    since = events_cutoff({"events_cutoff": (NOON - timedelta(minutes=1)).isoformat()})
    sessions = SessionStore()
    assert replay(log, sessions, since) == (2, 0)
    assert sessions.seen(1) == [101, 102] and sessions.liked(1) == [102]  # 101: abandoned
    assert events_cutoff({}) is None
    everything = SessionStore()
    assert replay(log, everything, None) == (3, 0) and everything.seen(1) == [100, 101, 102]


@pytest.fixture
def private_ws(serving_ws, tmp_path) -> Workspace:
    """A copy of the suite's workspace with an empty event log (the suite's is shared)."""
    root = tmp_path / "ws"
    shutil.copytree(
        serving_ws.root, root, symlinks=True, ignore=shutil.ignore_patterns("media", "events")
    )
    return Workspace(root)


def _ready_client(settings: Settings, encoders) -> TestClient:
    client = TestClient(create_app(settings, encoders=encoders))
    client.__enter__()
    deadline = time.time() + 120
    while (r := client.get("/ready")).status_code != 200:
        assert time.time() < deadline and r.json()["status"] != "error", r.json()
        time.sleep(0.1)
    return client


def test_a_restart_loses_no_event(private_ws, encoders):
    settings = Settings(workspace=private_ws.root, api_key=API_KEY, reload_poll_seconds=0)
    client = _ready_client(settings, encoders)
    try:
        top = client.get("/users/1/recommendations", params={"k": 1}).json()["items"][0]
        event = {"user_id": 1, "item_id": top["item_id"], "kind": "view"}
        r = client.post("/events", json={"events": [event]}, headers={"X-API-Key": API_KEY})
        assert r.json()["accepted"] == 1
    finally:
        client.__exit__(None, None, None)
    restarted = _ready_client(settings, encoders)  # a new process on the same workspace
    try:
        recs = restarted.get("/users/1/recommendations", params={"k": 20}).json()["items"]
        assert recs and top["item_id"] not in {it["item_id"] for it in recs}
        auth = {"X-API-Key": API_KEY}  # user pages are private by default
        history = restarted.get("/users/1/history", headers=auth).json()["items"]
        assert history[0]["item_id"] == top["item_id"]  # the newest like
        assert "recsys_events_replayed_total 1.0" in restarted.get("/metrics").text
    finally:
        restarted.__exit__(None, None, None)


def test_workers_sharing_the_log_follow_each_others_events(tmp_path):
    """Worker B's sessions get what worker A accepted: whole lines only, each once."""
    a, b = EventLog(tmp_path / "events"), EventLog(tmp_path / "events")
    a.append([_row(1, 100)], now=NOON)
    sessions = SessionStore()
    n, _ = replay(b, sessions, since=None)  # B starts: replays the log, then follows
    assert n == 1 and sessions.seen(1) == [100]
    a.append([_row(1, 101), _row(2, 200)], now=NOON)
    path = a.path_for(NOON)
    with open(path, "ab") as fh:  # another worker's record, half-written so far
        fh.write(b'{"user_id": 3, "item_id": 300')
    found, bad = b.follow()
    assert [(e.user_id, e.item_id) for e in found] == [(1, 101), (2, 200)] and bad == 0
    assert b.follow() == ([], 0)  # nothing new: nothing read twice
    with open(path, "ab") as fh:  # the rest of it arrives
        fh.write(b', "rating": null, "watch_fraction": null, ')
        fh.write(b'"received_at": "2025-06-01T12:00:00+00:00"}\n')
    a.append([_row(4, 400)], now=NOON + timedelta(days=1))  # and a new day's file
    found, bad = b.follow()
    assert [(e.user_id, e.item_id) for e in found] == [(3, 300), (4, 400)] and bad == 0
