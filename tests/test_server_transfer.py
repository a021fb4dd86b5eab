"""Pixels sized for a network: zlib frames, a photo sent once, results as the edit's
box. The wire bytes are counted by a relay on 127.0.0.1 between a real client and
a real server (magic_server.bench_link.SlowLink, here without a speed limit)."""

import json
import os
import time
import zlib

import pytest

from magic_client import MagicClient, ServerError, protocol
from magic_client.errors import ProtocolError
from magic_client.runtime import read_runtime_file
from magic_client.transfer import image_sha256, transfer_for
from magic_server.bench_link import SlowLink
from magic_server.uploads import Uploads
from server_fixtures import TINY, make_job_inputs

WIDTH, HEIGHT = 480, 360
PARAMS = dict(TINY, seed=3, variants=2)


# --- frames ------------------------------------------------------------------
def test_compressed_frames_round_trip_and_incompressible_ones_stay_raw():
    mask = bytes(20 * 10)
    noise = os.urandom(20 * 10 * 4)
    frames = protocol.encode({"op": "x"}, [(protocol.BufferSpec("m", 20, 10, 1), mask),
                                           (protocol.BufferSpec("n", 20, 10, 4), noise)], compress=True)
    declared = json.loads(frames[0])["buffers"]
    assert declared[0]["encoding"] == "zlib" and len(frames[1]) < 50
    assert "encoding" not in declared[1] and frames[2] == noise
    message = protocol.decode(frames)
    assert bytes(message.buffer("m")) == mask and bytes(message.buffer("n")) == noise


@pytest.mark.parametrize("frame, words", [
    (zlib.compress(bytes(201)), "inflates to more than 200"),  # one byte more than declared: a bomb is cut off
    (zlib.compress(bytes(199)), "inflates to 199"),
    (b"not zlib at all", "not zlib data"),
    (zlib.compress(bytes(200))[:-3], "inflates to more than 200"),  # truncated: never complete
])
def test_a_compressed_frame_that_is_not_what_it_declares_is_refused(frame, words):
    header = {"v": 1, "buffers": [{"name": "m", "width": 20, "height": 10, "channels": 1, "nbytes": 200,
                                   "encoding": "zlib"}]}
    with pytest.raises(ProtocolError) as info:
        protocol.decode([json.dumps(header).encode(), frame])
    assert info.value.code == "buffer_mismatch" and words in str(info.value)


def test_an_unknown_encoding_is_refused():
    header = {"v": 1, "buffers": [{"name": "m", "width": 2, "height": 2, "channels": 1, "nbytes": 4,
                                   "encoding": "lz4"}]}
    with pytest.raises(ProtocolError) as info:
        protocol.decode([json.dumps(header).encode(), bytes(4)])
    assert info.value.code == "bad_header"


# --- kept uploads ------------------------------------------------------------
def test_kept_uploads_are_per_client_and_expire_by_age_then_by_size(tmp_path):
    job_image = tmp_path / "image.rgba"
    job_image.write_bytes(b"x" * 400)
    (tmp_path / "spool").mkdir()
    uploads = Uploads(tmp_path / "spool", max_bytes=1000, keep_s=3600)
    uploads.keep("ann", "a" * 64, job_image)
    assert uploads.find("ann", "a" * 64, 400) is not None
    assert uploads.find("bob", "a" * 64, 400) is None  # another designer cannot find Ann's photo
    assert uploads.find("ann", "a" * 64, 401) is None  # another size is another image
    job_image.unlink()  # the job's inputs are dropped: the kept link still holds the pixels
    assert uploads.find("ann", "a" * 64, 400).read_bytes() == b"x" * 400

    for n, digest in enumerate(("b" * 64, "c" * 64)):
        other = tmp_path / f"image{n}.rgba"
        other.write_bytes(b"y" * 400)
        uploads.keep("ann", digest, other)
    kept = uploads.find("ann", "a" * 64, 400)
    os.utime(kept, (time.time() - 60, time.time() - 60))  # used longest ago: the first to go over the size
    assert uploads.expire() == 1
    assert uploads.find("ann", "a" * 64, 400) is None and uploads.find("ann", "b" * 64, 400) is not None
    old = uploads.find("ann", "b" * 64, 400)
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert uploads.expire() == 1 and uploads.find("ann", "b" * 64, 400) is None


# --- a real server through a counting relay ----------------------------------
@pytest.fixture
def link(magic_server):
    relay = SlowLink(int(magic_server.endpoint.rpartition(":")[2]), mbit=100_000)
    yield relay
    relay.close()


def moved(link, action) -> tuple:
    before = dict(link.moved)
    value = action()
    time.sleep(0.2)  # the relay forwards in its own threads
    return value, link.moved["up"] - before["up"], link.moved["down"] - before["down"]


def test_over_a_slow_link_pixels_go_compressed_once_and_results_come_back_whole(magic_server, link):
    # An object moved beside itself in a larger photo: the edit covers a small part of it.
    image, source, target = make_job_inputs(WIDTH, HEIGHT, source=(60, 60, 110, 110), target=(130, 60, 180, 110))
    raw_image_bytes = len(image)
    raw_results_bytes = WIDTH * HEIGHT * (4 * PARAMS["variants"] + 1)
    with magic_server.client(timeout=30) as plain:
        assert plain.transfer.compress is False  # loopback: raw, as before
        reference = plain.wait(plain.submit(WIDTH, HEIGHT, image, source, target, params=PARAMS), timeout=120)

    runtime = link.through(read_runtime_file(magic_server.runtime_file))
    with MagicClient.connect_runtime(runtime, timeout=30) as client:
        client.transfer = transfer_for(client.endpoint, client.info, slow_link=True)

        def run():
            return client.wait(client.submit(WIDTH, HEIGHT, image, source, target, params=PARAMS), timeout=120)

        first, up, down = moved(link, run)
        assert up < 0.6 * raw_image_bytes  # the photo went compressed (this pattern packs to 51 %)
        assert down < 0.1 * raw_results_bytes  # the results came back as the edit's box, compressed
        assert first.layers == reference.layers and first.edit_mask == reference.edit_mask  # and put back whole

        again, up_again, _ = moved(link, run)
        assert up_again < 3000  # the second run on the same photo sent the masks alone
        assert again.layers == reference.layers

        # Uploads the server no longer keeps (expired, another server): the photo goes again.
        for kept in (magic_server.spool / "uploads").glob("*.rgba"):
            kept.unlink()
        third, up_third, _ = moved(link, run)
        assert up_third > up_again * 3 and third.layers == reference.layers

        # A fetch later (another process) gets each result whole.
        assert client.result(again.job_id).layers == reference.layers


def test_a_submit_whose_sha256_does_not_match_its_image_is_refused(magic_server):
    image, source, target = make_job_inputs()
    with magic_server.client() as client:
        buffers = list(zip(protocol.job_input_specs(96, 72), (image, source, target)))
        with pytest.raises(ServerError) as info:
            client._request("submit", {"params": TINY, "image_sha256": image_sha256(b"another")}, buffers)
        assert info.value.code == "invalid_param" and "sha256" in str(info.value)
        with pytest.raises(ServerError) as info:  # the masks alone, naming a photo never sent
            client._request("submit", {"params": TINY, "image_sha256": "0" * 64}, buffers[1:])
        assert info.value.code == "image_not_held"
        with pytest.raises(ServerError) as info:  # the masks alone without a sha256
            client._request("submit", {"params": TINY}, buffers[1:])
        assert info.value.code == "buffer_mismatch"


def test_a_request_cannot_declare_more_than_a_jobs_inputs_before_anything_is_inflated():
    # 32 small zlib frames declaring 4 MP each would make a server allocate gigabytes.
    declared = [{"name": f"b{i}", "width": 2000, "height": 2000, "channels": 1, "nbytes": 4_000_000,
                 "encoding": "zlib"} for i in range(32)]
    header = {"v": 1, "buffers": declared}
    with pytest.raises(ProtocolError) as info:  # garbage frames: refused before any is inflated
        protocol.decode_buffers(header, [b"garbage"] * 32, max_pixels=10_000_000)
    assert info.value.code == "too_large" and "at most 60000000" in str(info.value)
