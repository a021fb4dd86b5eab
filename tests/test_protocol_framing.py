"""Protocol v1 framing and request checks, without a server."""

import json
import subprocess
import sys
import textwrap

import pytest

from magic_client import protocol
from magic_client.errors import ProtocolError
from magic_server import validation
from magic_server.validation import RequestError


def _frames(header, buffers=()):
    return protocol.encode(header, buffers)


def test_encode_declares_buffers_and_decode_round_trips_without_copy():
    specs = protocol.job_input_specs(5, 3)
    data = [bytes(range(60)), b"\x01" * 15, b"\x02" * 15]
    frames = _frames({"op": "submit", "id": "1"}, list(zip(specs, data)))
    header = json.loads(frames[0])
    assert header["v"] == 1
    assert [b["name"] for b in header["buffers"]] == ["image", "source_mask", "target_mask"]
    assert header["buffers"][0] == {"name": "image", "width": 5, "height": 3, "channels": 4, "nbytes": 60}
    message = protocol.decode(frames)
    assert bytes(message.buffer("image")) == data[0]
    assert isinstance(message.buffer("image"), memoryview)
    assert message.spec("target_mask").nbytes == 15


def test_encode_refuses_a_buffer_of_the_wrong_size():
    with pytest.raises(ProtocolError) as info:
        protocol.encode({}, [(protocol.BufferSpec("image", 4, 4, 4), b"\0" * 63)])
    assert info.value.code == "buffer_mismatch"


@pytest.mark.parametrize("raw, code, words", [
    (b"", "bad_header", "DEALER"),
    (b"{not json", "bad_header", "not valid JSON"),
    (b"\xff\xfe", "bad_header", "UTF-8"),
    (b"[1, 2]", "bad_header", "JSON object"),
    (b'{"v": 2}', "bad_version", "version 2"),
    (b'{"op": "hello"}', "bad_version", "None"),
    (b'{"v": 1, "v": 1}', "bad_header", "duplicate"),
    (b'{"v": 1, "x": NaN}', "bad_header", "NaN"),
    (b"[" * 100000 + b"]" * 100000, "too_large", "limit"),
])
def test_bad_headers_get_a_code_and_a_reason(raw, code, words):
    with pytest.raises(ProtocolError) as info:
        protocol.decode([raw])
    assert info.value.code == code
    assert words in str(info.value)


def test_deeply_nested_json_is_an_error_not_a_crash():
    raw = b"[" * 30000 + b"]" * 30000
    with pytest.raises(ProtocolError) as info:
        protocol.decode([raw])
    assert info.value.code == "bad_header"


@pytest.mark.parametrize("declared, frames, code", [
    ([{"name": "image", "width": 2, "height": 2, "channels": 4, "nbytes": 16}], [], "buffer_mismatch"),
    ([{"name": "image", "width": 2, "height": 2, "channels": 4, "nbytes": 16}], [b"\0" * 15], "buffer_mismatch"),
    ([{"name": "image", "width": 2, "height": 2, "channels": 4, "nbytes": 15}], [b"\0" * 15], "buffer_mismatch"),
    ([{"name": "image", "width": 2, "height": 2, "channels": 2, "nbytes": 8}], [b"\0" * 8], "bad_header"),
    ([{"name": "image", "width": True, "height": 2, "channels": 4, "nbytes": 8}], [b"\0" * 8], "bad_header"),
    ([{"name": "../etc", "width": 2, "height": 2, "channels": 1, "nbytes": 4}], [b"\0" * 4], "bad_header"),
    ([{"name": "a", "width": 2, "height": 2, "channels": 1, "nbytes": 4, "x": 1}], [b"\0" * 4], "bad_header"),
    ([{"name": "a", "width": 200000, "height": 2, "channels": 1, "nbytes": 400000}], [b""], "too_large"),
    ("nope", [], "bad_header"),
    ([], [b"extra"], "buffer_mismatch"),
])
def test_buffer_declarations_are_checked_against_the_frames(declared, frames, code):
    raw = json.dumps({"v": 1, "buffers": declared}).encode()
    with pytest.raises(ProtocolError) as info:
        protocol.decode([raw, *frames])
    assert info.value.code == code


def test_pixel_limit_names_the_size_and_the_limit():
    raw = json.dumps({"v": 1, "buffers": [{"name": "image", "width": 5000, "height": 5000, "channels": 4,
                                           "nbytes": 100_000_000}]}).encode()
    with pytest.raises(ProtocolError) as info:
        protocol.decode([raw, b""], max_pixels=1_000_000)
    assert info.value.code == "too_large"
    assert "5000x5000" in str(info.value) and "1 MP" in str(info.value)


def test_max_frame_bytes_fits_the_largest_accepted_image():
    assert protocol.max_frame_bytes(100_000_000) >= 4 * 100_000_000


# --- request checks (server side) ---------------------------------------
TOKEN = "secret-token"


def _envelope(**fields):
    header = {"v": 1, "token": TOKEN, "op": "hello", "id": "r1"}
    header.update(fields)
    return header


def test_envelope_accepts_a_good_request():
    assert validation.check_envelope(_envelope(), TOKEN) == "hello"


@pytest.mark.parametrize("fields, code", [
    ({"token": "wrong"}, "bad_token"),
    ({"token": None}, "bad_token"),
    ({"token": 5}, "bad_token"),
    ({"id": ""}, "bad_header"),
    ({"id": "x" * 65}, "bad_header"),
    ({"id": 7}, "bad_header"),
    ({"op": "explode"}, "unknown_op"),
    ({"op": ["hello"]}, "bad_header"),
    ({"surprise": 1}, "bad_header"),
    ({"op": "status", "job": "x", "params": {}}, "bad_header"),
])
def test_envelope_refusals(fields, code):
    with pytest.raises(RequestError) as info:
        validation.check_envelope(_envelope(**fields), TOKEN)
    assert info.value.code == code


def test_wrong_token_is_refused_without_detail():
    with pytest.raises(RequestError) as info:
        validation.check_envelope(_envelope(token="wrong", op="explode"), TOKEN)
    assert info.value.code == "bad_token"
    assert "token" not in info.value.message and "explode" not in info.value.message


@pytest.mark.parametrize("job", ["../../etc/passwd", "20250101-120000-0123ABCD", "", None, 5,
                                 "20250101-120000-0123abcd/.."])
def test_job_ids_must_have_the_servers_format(job):
    with pytest.raises(RequestError):
        validation.check_job_id(job)
    assert validation.check_job_id("20250101-120000-0123abcd")


CHOICES = {"mode": ["position", "shape"], "preset": ["tiny"], "classifier": ["random:resnet18"],
           "device": ["auto", "cpu"]}


def test_params_are_checked_and_kept():
    params = {"mode": "shape", "preset": "tiny", "variants": 3, "seed": 2**40, "iterations": 5, "size": 64,
              "classifier": "random:resnet18", "device": "cpu"}
    assert validation.check_params(params, CHOICES) == params


@pytest.mark.parametrize("params", [
    {"variants": 0}, {"variants": 17}, {"variants": 2.0}, {"variants": True}, {"seed": -1}, {"seed": "7"},
    {"iterations": 100001}, {"size": 31}, {"size": 1025}, {"mode": "teleport"}, {"preset": 3},
    {"classifier": "/home/user/evil.pt"}, {"device": "cuda:7"}, {"colour": "red"},
])
def test_bad_params_are_refused_by_name(params):
    with pytest.raises(RequestError) as info:
        validation.check_params(params, CHOICES)
    assert info.value.code == "invalid_param"
    assert next(iter(params)) in info.value.message


def test_submit_needs_the_three_buffers_of_one_size():
    specs = protocol.job_input_specs(20, 20)
    good = [(s, b"\0" * s.nbytes) for s in specs]
    request = validation.check_submit({"params": {"preset": "tiny"}, "cancel_if_silent_s": 15}, good)
    assert (request.width, request.height, request.cancel_if_silent_s) == (20, 20, 15.0)
    with pytest.raises(RequestError) as info:
        validation.check_submit({}, good[:2])
    assert info.value.code == "buffer_mismatch"
    other = protocol.BufferSpec("target_mask", 21, 20, 1)
    with pytest.raises(RequestError) as info:
        validation.check_submit({}, good[:2] + [(other, b"\0" * other.nbytes)])
    assert "21x20" in info.value.message
    small = [(s, b"\0" * s.nbytes) for s in protocol.job_input_specs(8, 30)]
    with pytest.raises(RequestError) as info:
        validation.check_submit({}, small)
    assert info.value.code == "invalid_param"
    with pytest.raises(RequestError) as info:
        validation.check_submit({"cancel_if_silent_s": 0}, good)
    assert "cancel_if_silent_s" in info.value.message


def test_client_package_imports_with_only_stdlib_and_pyzmq():
    """GIMP's Python has no numpy/torch/Pillow: magic_client must not import them."""
    script = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"numpy", "torch", "PIL", "magic_engine", "magic_server", "torchvision"}:
                    raise ImportError("blocked in this test: " + name)
        sys.meta_path.insert(0, Block())
        import magic_client, magic_client.client, magic_client.protocol, magic_client.paths, magic_client.runtime
        import magic_client.launcher
        import magic_client.__main__
        from magic_client import MagicClient, MagicClientError, ServerUnavailable, ServerError, JobFailed
        from magic_client import JobCancelled, JobResult
        from magic_client.paths import default_runtime_file
        print("ok", default_runtime_file())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def test_engine_reports_become_strict_json():
    """A NaN loss in a report must not stop the server from saving or sending it."""
    import json as strict_json

    import numpy as np

    from magic_server.engine import _json_safe

    report = {"final_losses": {"class": float("nan"), "tv": np.float32("inf"), "mask": np.float64(0.5)},
              "levels": [(1, 2), (float("-inf"), 3)], "seed": np.int64(4)}
    safe = _json_safe(report)
    assert safe == {"final_losses": {"class": None, "tv": None, "mask": 0.5}, "levels": [[1, 2], [None, 3]],
                    "seed": 4}
    strict_json.dumps(safe, allow_nan=False)
