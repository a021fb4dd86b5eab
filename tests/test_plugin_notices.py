"""The untrained-weights warning is shown once per server start."""

from __future__ import annotations

import json

from magic_gimp_core.notices import KEEP, first_time, server_start_key


def test_once_per_server_start(tmp_path):
    path = str(tmp_path / "notices.json")
    start = server_start_key({"pid": 41, "started": "2026-12-02T10:00:00+0000"})
    assert first_time(path, start)
    assert not first_time(path, start)
    restarted = server_start_key({"pid": 41, "started": "2026-12-02T11:00:00+0000"})  # a reused pid
    assert first_time(path, restarted)
    assert not first_time(path, start)


def test_the_file_stays_small_and_bad_files_mean_warning_again(tmp_path):
    path = tmp_path / "notices.json"
    for i in range(KEEP + 5):
        first_time(str(path), f"start {i}")
    assert len(json.loads(path.read_text())) == KEEP
    path.write_text("{not json")
    assert first_time(str(path), "start 24")
    assert first_time(str(tmp_path / "missing-folder" / "notices.json"), "x")  # cannot record: warn again
    assert first_time(str(tmp_path / "missing-folder" / "notices.json"), "x")
