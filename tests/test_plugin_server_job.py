"""The plug-in's server side, GIMP left out: connecting (and starting a
server), running a job on a worker thread while the main thread ticks, and
cancelling. Real magic_server processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

import magic_client
from magic_gimp_core.background import Abandoned, call_in_background
from magic_gimp_core.messages import UserError
from magic_gimp_core.progress import describe_event
from magic_gimp_core.server_job import JobRequest, JobRunner, connect
from magic_gimp_core.settings import PluginSettings, load_settings
from server_fixtures import FAST_ENGINE_ARGS, make_job_inputs


def settings_for(tmp_path, runtime_file=None, command=()):
    return PluginSettings(plugin_dir=str(tmp_path), config_path=str(tmp_path / "magic-gimp.json"),
                          runtime_file=str(runtime_file) if runtime_file else None, server_command=list(command))


def run_job(client, request, cancel_after_first_progress=False):
    runner = JobRunner(client)
    seen = []

    def tick():
        for event in runner.drain_events():
            seen.append(event)
            if cancel_after_first_progress and event.get("type") == "progress" and event.get("total"):
                runner.cancel()

    result = call_in_background(lambda: runner.run(request), tick)
    seen.extend(runner.drain_events())
    return result, seen


def test_job_runs_on_a_worker_thread_and_reports_progress(magic_server, tmp_path):
    client = connect(magic_client, settings_for(tmp_path, magic_server.runtime_file))
    try:
        image, source, target = make_job_inputs(96, 72)
        request = JobRequest(96, 72, image, source, target, {"mode": "position", "preset": "tiny", "seed": 3})
        result, events = run_job(client, request)
    finally:
        client.close()
    assert (result.width, result.height, len(result.layers)) == (96, 72, 2)
    assert all(len(layer) == 96 * 72 * 4 for layer in result.layers) and len(result.edit_mask) == 96 * 72
    kinds = [e["type"] for e in events]
    assert kinds[0] == "accepted" and "progress" in kinds and kinds[-1] == "done"  # the protocol's events only
    fractions = [describe_event(e)[1] for e in events if describe_event(e) and describe_event(e)[1] is not None]
    assert fractions and fractions[-1] == 1.0


def test_cancel_from_the_main_thread_cancels_the_job_on_the_server(magic_server, tmp_path):
    client = connect(magic_client, settings_for(tmp_path, magic_server.runtime_file))
    try:
        image, source, target = make_job_inputs(96, 72)
        request = JobRequest(96, 72, image, source, target, {"mode": "position", "preset": "preview", "seed": 1})
        with pytest.raises(magic_client.JobCancelled):
            run_job(client, request, cancel_after_first_progress=True)
        jobs = {job["id"]: job["state"] for job in client.jobs()}
    finally:
        client.close()
    assert "cancelled" in jobs.values()


def test_no_server_and_no_way_to_start_one(tmp_path):
    with pytest.raises(UserError, match="(?s)cannot reach its server: .*does not know how to start one "
                                        "\\(.*magic-gimp.json has no \"server_command\"\\)"):
        connect(magic_client, settings_for(tmp_path, tmp_path / "none.json"))


def test_a_broken_settings_file_is_named_when_no_server_can_be_started(tmp_path):
    (tmp_path / "magic-gimp.json").write_text(json.dumps({"server_command": "python -m magic_server"}))
    settings = load_settings(str(tmp_path))
    with pytest.raises(UserError, match="(?s)cannot reach its server: .*server_command.* must be a list of strings"):
        connect(magic_client, settings, str(tmp_path / "none.json"))


def test_a_server_command_that_does_not_exist_means_not_installed(tmp_path):
    settings = settings_for(tmp_path, tmp_path / "none.json", ["/nonexistent/venv/bin/python", "-m", "magic_server"])
    with pytest.raises(UserError, match="not installed.*/nonexistent/venv/bin/python"):
        connect(magic_client, settings)


@pytest.mark.slow
def test_starts_the_server_when_none_is_running(tmp_path):
    runtime_file = tmp_path / "started.json"
    command = [sys.executable, "-m", "magic_server", "--endpoint", "tcp://127.0.0.1:0", "--spool",
               str(tmp_path / "spool"), *FAST_ENGINE_ARGS]
    os.environ["MAGIC_GIMP_HOME"] = str(tmp_path / "home")  # the spawned server inherits it
    try:
        client = connect(magic_client, settings_for(tmp_path, runtime_file, command))
    finally:
        del os.environ["MAGIC_GIMP_HOME"]
    pid = client.server_pid
    try:
        assert client.started_process is not None and client.info["protocol"] == magic_client.PROTOCOL_VERSION
        assert client.info["region_rule"]["min_context"] >= 0
    finally:
        client.close()
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while client.started_process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert client.started_process.poll() is not None


def test_background_call_returns_raises_and_can_be_abandoned():
    ticks = []
    assert call_in_background(lambda: 41 + 1, lambda: ticks.append(1), interval=0.01) == 42
    assert ticks

    def fail():
        raise ValueError("from the worker")

    with pytest.raises(ValueError, match="from the worker"):
        call_in_background(fail, lambda: None, interval=0.01)
    started = time.monotonic()
    with pytest.raises(Abandoned):
        call_in_background(lambda: time.sleep(5), lambda: None, should_abandon=lambda: True, interval=0.01)
    assert time.monotonic() - started < 1.0
