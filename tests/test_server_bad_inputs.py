"""Malformed and hostile messages, sent with a raw DEALER socket to a real
server: each gets an error reply with a code, and the server keeps serving."""

import json
import time

import pytest
import zmq

from magic_client import protocol
from server_fixtures import TINY, make_job_inputs, start_server

MAX_MEGAPIXELS = 0.25  # keeps ZMQ_MAXMSGSIZE small enough to test with a real oversize frame


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("bad-inputs"), extra_args=["--max-megapixels", MAX_MEGAPIXELS])
    yield server
    server.kill()


class RawPeer:
    """A bare DEALER socket: sends any frames, returns the decoded reply."""

    def __init__(self, server):
        self.server = server
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(server.endpoint)

    def header(self, **fields) -> dict:
        header = {"v": 1, "token": self.server.token, "op": "hello", "id": "r1"}
        header.update(fields)
        return header

    def send(self, frames) -> None:
        self.socket.send_multipart(frames)

    def reply(self, timeout_s: float = 10.0) -> dict:
        assert self.socket.poll(int(timeout_s * 1000)), "no reply from the server"
        return protocol.decode(self.socket.recv_multipart(), max_header_bytes=None).header

    def ask(self, frames) -> dict:
        self.send(frames)
        return self.reply()

    def close(self):
        self.socket.close(linger=0)


@pytest.fixture
def peer(server):
    peer = RawPeer(server)
    yield peer
    peer.close()


def assert_still_serving(server):
    healthy = RawPeer(server)
    try:
        answer = healthy.ask(protocol.encode(healthy.header(id="health")))
        assert answer["ok"] is True and answer["protocol"] == 1
    finally:
        healthy.close()
    assert server.alive()


def job_frames(peer, width=64, height=48, **fields):
    image, source, target = make_job_inputs(width, height, (4, 4, 20, 20), (30, 20, 46, 36))
    specs = protocol.job_input_specs(width, height)
    return protocol.encode(peer.header(op="submit", **fields), list(zip(specs, (image, source, target))))


def test_wrong_token_is_refused_without_detail(server, peer):
    answer = peer.ask(protocol.encode(peer.header(token="not-the-token", op="jobs")))
    assert answer == {"v": 1, "type": "error", "ok": False, "id": "r1", "code": "bad_token",
                      "message": "request refused", "buffers": []}
    answer = peer.ask(protocol.encode({k: v for k, v in peer.header().items() if k != "token"}))
    assert answer["code"] == "bad_token"
    assert_still_serving(server)


def test_invalid_json(server, peer):
    answer = peer.ask([b'{"v": 1, "token": '])
    assert (answer["ok"], answer["code"], answer["id"]) == (False, "bad_header", None)
    assert "not valid JSON" in answer["message"]
    assert peer.ask([b"\x80\x81 binary"])["code"] == "bad_header"
    assert peer.ask([b"[]"])["code"] == "bad_header"
    assert_still_serving(server)


def test_empty_frame_as_sent_by_a_req_socket(server, peer):
    answer = peer.ask([b"", json.dumps(peer.header()).encode()])
    assert answer["code"] == "bad_header" and "DEALER" in answer["message"]
    assert_still_serving(server)


def test_wrong_protocol_version(server, peer):
    answer = peer.ask([json.dumps(dict(peer.header(), v=2)).encode()])
    assert answer["code"] == "bad_version" and "version 2" in answer["message"]


def test_unknown_op(server, peer):
    answer = peer.ask(protocol.encode(peer.header(op="format_disk")))
    assert answer["code"] == "unknown_op" and "format_disk" in answer["message"] and "submit" in answer["message"]
    assert answer["id"] == "r1"
    assert_still_serving(server)


def test_missing_and_mistyped_fields(server, peer):
    assert peer.ask(protocol.encode(peer.header(op="status")))["code"] == "bad_header"
    assert peer.ask(protocol.encode(peer.header(op="status", job="../../../etc/passwd")))["code"] == "bad_header"
    assert peer.ask(protocol.encode(peer.header(op="hello", id=["x"])))["code"] == "bad_header"
    assert peer.ask(protocol.encode(peer.header(op="hello", extra=1)))["code"] == "bad_header"
    assert peer.ask(protocol.encode(peer.header(op="ping", jobs="all")))["code"] == "bad_header"
    for fields in ({"op": "ping", "jobs": 5}, {"op": "ping", "jobs": [5]}, {"op": "ping", "jobs": [["x"]]},
                   {"op": "watch", "job": 5}, {"op": "watch", "job": ["x"]},
                   {"op": "status", "job": "20000101-000000-00000000\n"}):
        answer = peer.ask(protocol.encode(peer.header(**fields)))
        assert answer["code"] == "bad_header", (fields, answer)
    assert peer.ask(protocol.encode(peer.header(op="status", job="20000101-000000-00000000")))["code"] == \
        "unknown_job"
    assert_still_serving(server)


def test_truncated_multipart(server, peer):
    frames = job_frames(peer)
    answer = peer.ask(frames[:-1])  # the target mask frame is missing
    assert answer["code"] == "buffer_mismatch" and "declares 3" in answer["message"]
    answer = peer.ask(frames[:1])
    assert answer["code"] == "buffer_mismatch"
    assert_still_serving(server)


def test_header_and_buffer_size_mismatch(server, peer):
    frames = job_frames(peer)
    answer = peer.ask(frames[:1] + [frames[1][:-7]] + frames[2:])
    assert answer["code"] == "buffer_mismatch" and "'image'" in answer["message"]
    header = json.loads(frames[0])
    header["buffers"][1]["nbytes"] += 1
    answer = peer.ask([json.dumps(header).encode()] + frames[1:])
    assert answer["code"] == "buffer_mismatch"
    header = json.loads(frames[0])
    header["buffers"][2].update(width=32, nbytes=32 * 48)  # a mask of another size than the image
    answer = peer.ask([json.dumps(header).encode()] + frames[1:3] + [frames[3][:32 * 48]])
    assert answer["code"] == "buffer_mismatch" and "must match the image" in answer["message"]
    assert_still_serving(server)


def test_huge_dimensions(server, peer):
    header = peer.header(op="submit")
    header["buffers"] = [{"name": n, "width": 60000, "height": 60000, "channels": c, "nbytes": 60000 * 60000 * c}
                         for n, c in protocol.JOB_INPUTS]
    answer = peer.ask([json.dumps(header).encode(), b"", b"", b""])
    assert answer["code"] == "too_large" and "60000x60000" in answer["message"]
    header["buffers"] = [{"name": n, "width": 2**40, "height": 1, "channels": c, "nbytes": 2**40 * c}
                         for n, c in protocol.JOB_INPUTS]
    assert peer.ask([json.dumps(header).encode(), b"", b"", b""])["code"] == "too_large"
    assert_still_serving(server)


def test_bad_params(server, peer):
    answer = peer.ask(job_frames(peer, params={"variants": 1000}))
    assert answer["code"] == "invalid_param" and "variants" in answer["message"]
    answer = peer.ask(job_frames(peer, params={"classifier": "/tmp/evil.pt"}))
    assert answer["code"] == "invalid_param" and "random:resnet18" in answer["message"]
    answer = peer.ask(job_frames(peer, params={"preset": "standard", "size": 32}))  # the engine's own check
    assert answer["code"] == "invalid_param" and "min_side" in answer["message"]
    answer = peer.ask(job_frames(peer, params=[]))
    assert answer["code"] == "bad_header"
    assert_still_serving(server)


def test_oversize_header_gets_an_error(server, peer):
    answer = peer.ask(protocol.encode(peer.header(op="ping", jobs=["x" * 100] * 1000)))
    assert answer["code"] == "too_large" and "header" in answer["message"]
    assert_still_serving(server)


def test_oversize_image_within_frame_limit_gets_an_error(server, peer):
    # 0.28 MP > the 0.25 MP limit, but the frames are within ZMQ_MAXMSGSIZE
    answer = peer.ask(job_frames(peer, width=560, height=500))
    assert answer["code"] == "too_large" and "0.25 MP" in answer["message"]
    assert_still_serving(server)


def test_frame_over_maxmsgsize_drops_only_that_connection(server, peer):
    limit = protocol.max_frame_bytes(int(MAX_MEGAPIXELS * 1e6))
    monitor = peer.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    peer.send([json.dumps(peer.header()).encode(), b"\0" * (limit + 1)])
    assert monitor.poll(10000), "libzmq should disconnect a peer that exceeds ZMQ_MAXMSGSIZE"
    assert not peer.socket.poll(500), "an over-limit message must not be answered"
    peer.socket.disable_monitor()
    assert_still_serving(server)
    # The same DEALER reconnects by itself and is served again.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        peer.send(protocol.encode(peer.header(id="again")))
        if peer.socket.poll(1000):
            assert protocol.decode(peer.socket.recv_multipart(), max_header_bytes=None).header["id"] == "again"
            break
    else:
        raise AssertionError("the dropped client was not served after reconnecting")


def test_a_storm_of_garbage_then_a_real_job(server, peer):
    garbage = [[b"x"], [b"{}"], [b"null"], [b'{"v":1}'], [b'{"v":1,"token":1}'], [b"\0" * 1000, b"\0"],
               [json.dumps(peer.header(op="submit")).encode()], [json.dumps(peer.header(op="result")).encode()]]
    for frames in garbage * 5:
        peer.send(frames)
    answers = [peer.reply() for _ in range(len(garbage) * 5)]
    assert all(a["ok"] is False and a["code"] in protocol.ERROR_CODES for a in answers)
    with server.client() as client:
        image, source, target = make_job_inputs(64, 48, (4, 4, 20, 20), (30, 20, 46, 36))
        result = client.wait(client.submit(64, 48, image, source, target, params=dict(TINY, iterations=3)),
                             timeout=60)
        assert len(result.layers) == 2
    assert "Traceback" not in server.log()


@pytest.mark.slow
def test_refused_requests_are_logged_at_a_bounded_rate(tmp_path, caplog):
    """A client without the token, retrying in a loop, adds at most 20 lines a minute."""
    fresh = start_server(tmp_path / "refusals")
    try:
        peer = RawPeer(fresh)
        for i in range(300):
            assert peer.ask(protocol.encode(peer.header(token="wrong", id=f"r{i}")))["code"] == "bad_token"
        peer.close()
        assert_still_serving(fresh)
    finally:
        fresh.kill()
    assert fresh.log().count("refused a request") == 20

    from magic_server.refusals import RefusalLog

    now = [0.0]
    refusals = RefusalLog(window_s=60, lines=2, clock=lambda: now[0])
    with caplog.at_level("INFO", logger="magic_server.app"):
        for _ in range(5):
            refusals.log("bad_token", "request refused")
        now[0] = 61.0
        refusals.log("bad_header", "x")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["refused a request: bad_token: request refused"] * 2 + [
        "refused 3 more requests in the last 60 s without logging each (bad_token 3)",
        "refused a request: bad_header: x"]
