"""Clients that disconnect, crash or reconnect still get their results."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from magic_client import MagicClient
from server_fixtures import TINY, make_job_inputs

W, H = 64, 48


def inputs():
    return make_job_inputs(W, H, (4, 4, 20, 20), (30, 20, 46, 36))


def test_disconnect_then_fetch_later_from_another_client(magic_server):
    submitter = magic_server.client()
    job = submitter.submit(W, H, *inputs(), params=dict(TINY, seed=11))
    submitter.close()  # gone before the job even started

    time.sleep(0.5)
    with MagicClient.connect(magic_server.runtime_file) as later:
        assert job in {j["id"] for j in later.jobs()}
        result = later.wait(job, timeout=120)  # subscribes with "watch", then fetches
        assert result.params["seed"] == 11 and len(result.layers) == 2
        assert later.status(job)["fetched"] is True


def test_a_crashed_client_process_leaves_a_job_the_cli_can_fetch(magic_server, tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from magic_client import MagicClient
        from server_fixtures import make_job_inputs
        client = MagicClient.connect({str(magic_server.runtime_file)!r})
        job = client.submit({W}, {H}, *make_job_inputs({W}, {H}, (4, 4, 20, 20), (30, 20, 46, 36)),
                            params={{"preset": "tiny", "iterations": 40}})
        print(job, flush=True)
        os._exit(9)  # no close, no goodbye
    """)
    crashed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert crashed.returncode == 9, crashed.stderr
    job = crashed.stdout.strip()
    out = tmp_path / "fetched"
    fetch = subprocess.run([sys.executable, "-m", "magic_server.client", "--runtime-file", str(magic_server.runtime_file),
                            "fetch", job, "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=180)
    assert fetch.returncode == 0, fetch.stderr
    assert sorted(p.name for p in out.iterdir()) == ["composite_0.png", "composite_1.png", "edit_mask.png",
                                                     "report.json"]


def test_reconnecting_socket_keeps_receiving_its_jobs_events(magic_server):
    with magic_server.client() as client:
        job = client.submit(W, H, *inputs(), params=dict(TINY, iterations=60))
        seen = []
        while not any(e["type"] == "progress" and e.get("phase") == "synthesis" for e in seen):
            seen += client.poll(job, timeout_ms=100)
        client._reconnect(client._runtime)  # a new TCP connection, same routing id (ROUTER_HANDOVER)
        after = []
        result = client.wait(job, on_event=after.append, timeout=120)
        assert len(result.layers) == 2
        assert any(e["type"] == "progress" for e in after) and after[-1]["type"] == "done"
        assert not any(e.get("from_status") for e in after)  # events came over the new connection


@pytest.mark.slow
def test_a_server_killed_mid_submit_is_noticed_within_seconds(server_factory, tmp_path):
    """The submit's 120 s timeout is for slow transfers, not for a dead server."""
    import os
    import signal
    import threading

    from magic_client import ServerUnavailable

    server = server_factory(tmp_path / "a")
    client = server.client()
    os.kill(server.pid, signal.SIGSTOP)  # it will never answer the submit
    outcome = {}

    def submit():
        started = time.monotonic()
        try:
            client.submit(W, H, *inputs())
        except ServerUnavailable as exc:
            outcome["error"] = str(exc)
        outcome["seconds"] = time.monotonic() - started

    waiting = threading.Thread(target=submit)
    waiting.start()
    time.sleep(1.0)
    os.kill(server.pid, signal.SIGKILL)
    waiting.join(60)
    client.close()
    assert "has stopped" in outcome.get("error", "") and "ended while we waited" in outcome["error"], outcome
    assert outcome["seconds"] < 5
