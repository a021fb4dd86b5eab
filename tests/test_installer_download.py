"""Resumable, verified downloads against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import os

import pytest

from installer_support import FileServer, sha256

from installer.download import Downloader, copy_local, part_path
from installer.errors import ChecksumError, DownloadError, InstallError

DATA = os.urandom(3 * 1024 * 1024 + 123)  # several chunks, odd length
NAME = "weights.ckpt"


def _downloader(**kw):
    options = dict(stall_timeout=5.0, retries=3, retry_wait=0.0, progress_stream=io.StringIO())
    options.update(kw)
    return Downloader(**options)


def test_plain_download_is_verified_and_renamed(tmp_path):
    with FileServer({NAME: DATA}) as server:
        result = _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA))
    assert result.action == "downloaded" and result.verified
    assert (tmp_path / NAME).read_bytes() == DATA
    assert not part_path(tmp_path / NAME).exists()


def test_dropped_connection_resumes_with_range_and_does_not_resend_bytes(tmp_path):
    with FileServer({NAME: DATA}) as server:
        server.drop[NAME] = [1_000_000]
        result = _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA))
    requests = server.requests_for(NAME)
    sent = server.bytes_sent(NAME)
    assert result.verified and (tmp_path / NAME).read_bytes() == DATA
    assert [r[1] for r in requests] == [None, "bytes=1000000-"]
    assert [r[2] for r in requests] == [200, 206]
    assert sent == len(DATA), "bytes already on disk were sent again"


def test_partial_file_from_an_earlier_run_is_resumed(tmp_path):
    part_path(tmp_path / NAME).write_bytes(DATA[:2_000_000])
    with FileServer({NAME: DATA}) as server:
        _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), None)
    assert [r[1] for r in server.requests_for(NAME)] == ["bytes=2000000-"]
    assert server.bytes_sent(NAME) == len(DATA) - 2_000_000
    assert (tmp_path / NAME).read_bytes() == DATA


def test_stall_times_out_and_retries_from_where_it_stopped(tmp_path):
    with FileServer({NAME: DATA}) as server:
        server.stall[NAME] = [(500_000, 30)]
        result = _downloader(stall_timeout=0.5).fetch([f"{server.url}/{NAME}"], tmp_path / NAME,
                                                      sha256(DATA), len(DATA))
    assert result.verified
    assert [r[1] for r in server.requests_for(NAME)] == [None, "bytes=500000-"]
    assert server.bytes_sent(NAME) == len(DATA)


def test_server_ignoring_range_restarts_cleanly(tmp_path):
    part_path(tmp_path / NAME).write_bytes(DATA[:1_000_000])
    with FileServer({NAME: DATA}) as server:
        server.ignore_range.add(NAME)
        result = _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA))
    assert [r[2] for r in server.requests_for(NAME)] == [200]
    assert result.verified and (tmp_path / NAME).read_bytes() == DATA


def test_complete_part_file_gets_416_and_is_used(tmp_path):
    part_path(tmp_path / NAME).write_bytes(DATA)
    with FileServer({NAME: DATA}) as server:
        result = _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), None)
    assert [r[2] for r in server.requests_for(NAME)] == [416]
    assert result.verified and (tmp_path / NAME).read_bytes() == DATA


def test_corrupt_download_is_rejected_and_nothing_is_left(tmp_path):
    with FileServer({NAME: DATA}) as server:
        server.corrupt.add(NAME)
        with pytest.raises(ChecksumError) as failure:
            _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA))
    message = str(failure.value)
    assert "corrupt" in message and sha256(DATA) in message and "Nothing was kept" in message
    assert sorted(os.listdir(tmp_path)) == []


def test_good_file_is_never_downloaded_again(tmp_path):
    (tmp_path / NAME).write_bytes(DATA)
    with FileServer({NAME: DATA}) as server:
        result = _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA))
    assert server.requests == []
    assert result.action == "present" and result.verified


def test_wrong_file_in_place_is_reported_not_overwritten(tmp_path):
    (tmp_path / NAME).write_bytes(b"something else")
    with pytest.raises(ChecksumError) as failure:
        _downloader().fetch(["http://127.0.0.1:9/never-used"], tmp_path / NAME, sha256(DATA), len(DATA))
    assert "already exists but is not the published file" in str(failure.value)
    assert (tmp_path / NAME).read_bytes() == b"something else"


def test_unknown_sha256_needs_permission_and_reports_the_computed_hash(tmp_path):
    with FileServer({NAME: DATA}) as server:
        with pytest.raises(InstallError) as refused:
            _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, None, None)
        assert "--allow-unverified" in str(refused.value) and server.requests == []
        result = _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, None, None,
                                     allow_unverified=True)
    assert result.verified is False and result.sha256 == sha256(DATA)


def test_missing_file_falls_through_to_next_url_then_fails_clearly(tmp_path):
    with FileServer({NAME: DATA}) as server:
        result = _downloader().fetch([f"{server.url}/nothing-here", f"{server.url}/{NAME}"], tmp_path / NAME,
                                     sha256(DATA), len(DATA))
        assert result.source.endswith("/" + NAME)
        with pytest.raises(DownloadError) as failure:
            _downloader().fetch([f"{server.url}/nothing-here"], tmp_path / "other.ckpt", sha256(DATA), None)
    assert "HTTP 404" in str(failure.value)


def test_unreachable_server_gives_up_after_the_retries_and_keeps_the_part(tmp_path):
    with FileServer({NAME: DATA}) as server:
        url = f"{server.url}/{NAME}"
        server.drop[NAME] = [100_000]
    # The server is gone now: every further attempt fails to connect.
    part_path(tmp_path / NAME).write_bytes(DATA[:100_000])
    with pytest.raises(DownloadError) as failure:
        _downloader(retries=2).fetch([url], tmp_path / NAME, sha256(DATA), len(DATA))
    assert "after 2 retries" in str(failure.value)
    assert part_path(tmp_path / NAME).stat().st_size == 100_000


def test_manifest_size_disagreeing_with_server_is_refused(tmp_path):
    with FileServer({NAME: DATA}) as server:
        with pytest.raises(DownloadError) as failure:
            _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA) + 1)
    assert "the manifest says" in str(failure.value)


def test_local_copy_is_verified(tmp_path):
    good = tmp_path / "good.ckpt"
    good.write_bytes(DATA)
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(DATA[:-1])
    out = tmp_path / "out"
    with pytest.raises(ChecksumError):
        copy_local(bad, out / NAME, sha256(DATA), False)
    assert not (out / NAME).exists()
    result = copy_local(good, out / NAME, sha256(DATA), False)
    assert result.action == "copied" and (out / NAME).read_bytes() == DATA


def test_a_server_sending_more_than_the_manifest_size_is_cut_off(tmp_path):
    """No Content-Length and 51 MB for a file the manifest says is 3 MB: stopped at the size."""
    with FileServer({NAME: DATA}) as server:
        server.unbounded[NAME] = b"\0" * (8 * 1024 * 1024)
        with pytest.raises(DownloadError) as info:
            _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA))
    assert f"more than the {len(DATA)} bytes accepted" in str(info.value)
    assert not part_path(tmp_path / NAME).exists() and not (tmp_path / NAME).exists()


def test_a_trickle_counts_as_a_stall_and_ends_in_a_clear_error(tmp_path):
    with FileServer({NAME: DATA}) as server:
        server.trickle[NAME] = 2000  # bytes per second; the rule wants 10 000
        with pytest.raises(DownloadError) as info:
            _downloader(stall_timeout=0.5, retries=2).fetch([f"{server.url}/{NAME}"], tmp_path / NAME,
                                                            sha256(DATA), len(DATA))
    assert "bytes/s" in str(info.value) and "after 2 retries" in str(info.value)
    assert len(server.requests_for(NAME)) == 3  # the trickle's bytes did not earn fresh retries


def test_a_part_file_with_wrong_bytes_is_downloaded_again_from_zero(tmp_path):
    part_path(tmp_path / NAME).write_bytes(os.urandom(1_000_000))  # not the start of DATA
    with FileServer({NAME: DATA}) as server:
        result = _downloader().fetch([f"{server.url}/{NAME}"], tmp_path / NAME, sha256(DATA), len(DATA))
    assert [r[1] for r in server.requests_for(NAME)] == ["bytes=1000000-", None]
    assert result.verified and (tmp_path / NAME).read_bytes() == DATA
