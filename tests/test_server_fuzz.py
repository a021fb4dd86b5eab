"""Seeded fuzzing of a real server: a few thousand well-framed but hostile
requests (every op, every field given values of the wrong type, shape or
size), and raw byte garbage. Every request gets a reply with a known code,
none is `internal`, no traceback is logged, and the server then runs a job."""

import json
import random
import time

import pytest

from magic_client import protocol
from server_fixtures import TINY, make_job_inputs, start_server

SEED = 20261202
MESSAGES = 3000
OPS = ("hello", "ping", "estimate", "submit", "status", "watch", "cancel", "result", "jobs")  # not shutdown: it would stop
VALUES = (None, True, 0, -1, 2**63, 1.5, float("1e308"), "", "x" * 300, "20000101-000000-00000000",
          "20000101-000000-00000000\n", "../../etc/passwd", [], [1, "a"], ["20000101-000000-00000000"] * 70,
          {}, {"preset": "tiny"}, {"a": {"b": [None]}})
FIELDS = ("job", "jobs", "params", "width", "height", "cancel_if_silent_s", "buffers", "id", "v", "op", "extra")


def _hostile_frames(rng: random.Random, token: str) -> list:
    kind = rng.random()
    if kind < 0.1:  # raw bytes, one to three frames
        return [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))) for _ in range(rng.randint(1, 3))]
    header = {"v": 1, "token": token, "op": rng.choice(OPS), "id": f"f{rng.randint(0, 10**6)}"}
    for name in rng.sample(FIELDS, rng.randint(1, 4)):
        header[name] = rng.choice(VALUES)
    frames = [json.dumps(header).encode()]
    if rng.random() < 0.2:
        frames += [bytes(rng.randint(0, 32)) for _ in range(rng.randint(1, 3))]
    return frames


@pytest.mark.slow
def test_a_seeded_storm_of_hostile_requests(tmp_path):
    import zmq

    server = start_server(tmp_path / "fuzz")
    socket = zmq.Context.instance().socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(server.endpoint)
    rng = random.Random(SEED)
    codes = {}
    started = time.monotonic()
    try:
        for i in range(MESSAGES):
            socket.send_multipart(_hostile_frames(rng, server.token))
            assert socket.poll(10_000), f"no reply to message {i}"
            reply = protocol.decode(socket.recv_multipart(), max_header_bytes=None).header
            code = "ok" if reply.get("ok") else reply.get("code")
            codes[code] = codes.get(code, 0) + 1
            assert code == "ok" or code in protocol.ERROR_CODES, reply
            assert code != "internal", reply
        assert server.alive()
        with server.client() as client:
            image, source, target = make_job_inputs(64, 48, (4, 4, 20, 20), (30, 20, 46, 36))
            job = client.submit(64, 48, image, source, target, params=dict(TINY, iterations=2))
            assert len(client.wait(job, timeout=120).layers) == 2
    finally:
        socket.close(linger=0)
        server.kill()
    assert "Traceback" not in server.log(), server.log()[-3000:]
    assert codes.get("bad_header", 0) > MESSAGES // 3  # the storm did reach the field checks
    print(f"{MESSAGES} messages in {time.monotonic() - started:.1f} s: {codes}")
