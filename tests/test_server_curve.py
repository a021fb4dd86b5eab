"""A studio server: encrypted (CURVE), clients admitted by key, on real sockets on 127.0.0.1.

The server runs as its own user (MAGIC_GIMP_HOME in its folder); the designer
is this test process with another data folder, so another client key pair."""

import os
import socket
import stat
import subprocess
import sys
import time

import pytest
import zmq

from magic_client import MagicClient, ServerError, ServerUnavailable, curve
from magic_server.security import AllowedKeys
from server_fixtures import TINY, make_job_inputs

TIMEOUT_S = 5.0


@pytest.fixture
def designer(tmp_path, monkeypatch):
    """This process as a designer on their own computer: their own data folder and key pair."""
    monkeypatch.setenv("MAGIC_GIMP_HOME", str(tmp_path / "designer"))
    return curve.client_keys()


def start_curve_server(server_factory, tmp_path, allowed_lines):
    allowed = tmp_path / "allowed-keys.txt"
    allowed.write_text("\n".join(allowed_lines) + "\n", encoding="utf-8")
    server = server_factory(extra_args=["--curve", "--allow-keys", allowed])
    return server, allowed, server.runtime_info()["server_key"]


def two_designers(server_factory, tmp_path, monkeypatch):
    """A --curve server that allows Ann's and Bo's computers (each its own data folder and
    key pair) -> (server, connect(name) -> that designer's connected client)."""
    keys = []
    for name in ("ann", "bo"):
        monkeypatch.setenv("MAGIC_GIMP_HOME", str(tmp_path / name))
        keys.append(curve.client_keys().public_text)
    server, _, server_key = start_curve_server(server_factory, tmp_path, keys)

    def connect(name):
        monkeypatch.setenv("MAGIC_GIMP_HOME", str(tmp_path / name))  # the key pair is read when the socket opens
        return MagicClient.connect_remote(server.endpoint, server_key, timeout=TIMEOUT_S)

    return server, connect


def refusal(endpoint, server_key) -> tuple:
    """-> (message, seconds) of a connection that must be refused."""
    started = time.monotonic()
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect_remote(endpoint, server_key, timeout=TIMEOUT_S)
    return str(info.value), time.monotonic() - started


@pytest.mark.slow  # starts servers of its own
def test_only_allowed_keys_get_in_and_the_file_is_read_again_when_it_changes(server_factory, tmp_path, designer):
    server, allowed, server_key = start_curve_server(server_factory, tmp_path, ["# the studio's designers"])
    message, seconds = refusal(server.endpoint, server_key)
    assert "does not allow this computer's key" in message and designer.public_text in message
    assert "--allow-keys" in message and seconds < TIMEOUT_S  # one clear line, not a timeout

    # The admin adds the designer's key (Z85 keys may hold '#': the name follows a space).
    with allowed.open("a", encoding="utf-8") as f:
        f.write(f"{designer.public_text}  # Ann's laptop\n")
    with MagicClient.connect_remote(server.endpoint, server_key, timeout=TIMEOUT_S) as client:
        assert client.info["protocol"] == 1
        image, source, target = make_job_inputs()
        job = client.submit(96, 72, image, source, target, params=TINY)
        result = client.wait(job, timeout=120)
        assert len(result.layers) >= 1 and len(result.layers[0]) == 96 * 72 * 4

        # ...and removes it again: no restart needed, and the open connection is cut off too.
        time.sleep(0.01)  # a new modification time even on coarse clocks (the size changes too)
        allowed.write_text("# nobody for now\n", encoding="utf-8")
        with pytest.raises(ServerError) as info:
            client.jobs()
        assert info.value.code == "forbidden" and "no longer allowed" in str(info.value)
    message, _ = refusal(server.endpoint, server_key)
    assert "does not allow this computer's key" in message
    assert server.alive()
    assert "refused a client with key" in server.log()


@pytest.mark.slow  # starts servers of its own
def test_a_wrong_server_key_or_no_encryption_is_said_at_once(server_factory, tmp_path, designer):
    server, _, server_key = start_curve_server(server_factory, tmp_path, [designer.public_text])
    other_key = zmq.curve_keypair()[0].decode("ascii")
    message, seconds = refusal(server.endpoint, other_key)
    assert "server key does not match" in message and seconds < TIMEOUT_S
    message, seconds = refusal(server.endpoint, None)
    assert "encrypt" in message and "--server-key" in message and seconds < TIMEOUT_S
    with pytest.raises(curve.KeyProblem, match="not a CURVE public key"):
        MagicClient.connect_remote(server.endpoint, "my-key", timeout=TIMEOUT_S)
    with MagicClient.connect_remote(server.endpoint, server_key, timeout=TIMEOUT_S) as client:
        assert client.jobs() == []  # the right key still works after those attempts
    assert server.alive()


@pytest.mark.slow  # starts servers of its own
def test_the_server_user_keeps_its_keys_and_its_own_plugin_gets_in(server_factory, tmp_path, monkeypatch):
    server, _, server_key = start_curve_server(server_factory, tmp_path, [])
    home = tmp_path / "server0" / "home"  # the server's MAGIC_GIMP_HOME (server_fixtures.start_server)
    secret = home / "keys" / "server.key_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert server_key == curve.load_or_create("server", home / "keys").public_text
    # The plug-in on the server's own computer, as the same user: the runtime file says
    # to encrypt, and that user's client key is allowed without being listed.
    monkeypatch.setenv("MAGIC_GIMP_HOME", str(home))
    with server.client(timeout=TIMEOUT_S) as client:
        assert client.info["protocol"] == 1
    assert server.stop() == 0
    again = server_factory(workdir=tmp_path / "server0", extra_args=["--curve"])
    assert again.runtime_info()["server_key"] == server_key  # made once, kept across starts


@pytest.mark.slow  # starts servers of its own
def test_designers_see_only_their_own_jobs_and_cannot_stop_the_server(server_factory, tmp_path, monkeypatch):
    server, connect = two_designers(server_factory, tmp_path, monkeypatch)
    with connect("ann") as ann, connect("bo") as bo:
        image, source, target = make_job_inputs()
        job = ann.submit(96, 72, image, source, target, params=TINY)
        assert [j["id"] for j in ann.jobs()] == [job]
        assert bo.jobs() == []
        for ask in (bo.status, bo.cancel, bo.result):
            with pytest.raises(ServerError) as info:
                ask(job)
            assert info.value.code == "unknown_job"
        assert bo.ping([job])["jobs"] == {job: None}
        with pytest.raises(ServerError) as info:
            bo.shutdown()
        assert info.value.code == "forbidden"
        assert len(ann.wait(job, timeout=120).layers) >= 1  # bo's attempts changed nothing
    assert server.alive()


def test_a_silent_address_says_what_to_check(designer):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    with pytest.raises(ServerUnavailable) as info:
        MagicClient.connect_remote(endpoint, zmq.curve_keypair()[0].decode("ascii"), timeout=1.0)
    assert time.monotonic() - started < 3  # once, not retried
    assert str(info.value) == (f"the MAGIC server at {endpoint} did not answer within 1 s: check the address, that "
                               f"the server runs and that its port is open")


def test_an_address_libzmq_cannot_use_is_said_in_words(designer):
    with pytest.raises(ServerUnavailable, match="cannot connect to tcp://no such host:5555"):
        MagicClient.connect_remote("tcp://no such host:5555", zmq.curve_keypair()[0].decode("ascii"), timeout=1.0)


def test_a_key_for_a_server_that_does_not_encrypt_is_said_at_once(magic_server, designer):
    message, seconds = refusal(magic_server.endpoint, zmq.curve_keypair()[0].decode("ascii"))
    assert "does not use encryption" in message and seconds < TIMEOUT_S


def test_allowed_keys_file_format(tmp_path):
    keys = [zmq.curve_keypair()[0] for _ in range(3)]
    hashed = next(key for key in iter(lambda: zmq.curve_keypair()[0], None) if b"#" in key)  # '#' is Z85 too
    path = tmp_path / "keys.txt"
    path.write_text(f"# designers\n\n{keys[0].decode()}\n  {keys[1].decode()}   # Bo\n{hashed.decode()}\n"
                    f"not-a-key\n#{keys[2].decode()}\n", encoding="utf-8")
    allowed = AllowedKeys(path)
    assert all(allowed.allows(key) for key in (keys[0], keys[1], hashed))
    assert not allowed.allows(keys[2])  # commented out
    path.unlink()
    assert not allowed.allows(keys[0])  # a deleted file allows nobody


def test_command_line_key_and_remote_options(tmp_path):
    env = dict(os.environ, MAGIC_GIMP_HOME=str(tmp_path / "home"))

    def client(*args):
        return subprocess.run([sys.executable, "-m", "magic_server.client", *args], capture_output=True, text=True,
                              env=env, timeout=60)

    first, second = client("key"), client("key")
    assert first.returncode == 0 and first.stdout == second.stdout  # made on first use, then kept
    assert curve.check_public_key(first.stdout) == first.stdout.strip().encode()
    done = client("--server-key", first.stdout.strip(), "jobs")
    assert done.returncode == 2 and "--server-key needs --server" in done.stderr
    done = client("--server", "tcp://127.0.0.1:9", "--start", "jobs")
    assert done.returncode == 2 and "--start" in done.stderr


def test_key_files_are_private_and_made_without_hard_links_too(tmp_path, monkeypatch):
    made = curve.load_or_create("client", tmp_path / "keys")
    assert curve.load_or_create("client", tmp_path / "keys") == made  # made once, then read
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700

    def no_links(*_args):
        raise OSError(1, "Operation not permitted")  # exFAT, some network shares

    monkeypatch.setattr(curve.os, "link", no_links)
    other = curve.load_or_create("client", tmp_path / "exfat")
    assert other == curve.load_or_create("client", tmp_path / "exfat")
    assert stat.S_IMODE((tmp_path / "exfat" / "client.key_secret").stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "exfat").iterdir()) == ["client.key", "client.key_secret"]


@pytest.mark.slow  # starts servers of its own
def test_a_designer_sees_how_many_jobs_are_ahead_of_theirs(server_factory, tmp_path, monkeypatch):
    _, connect = two_designers(server_factory, tmp_path, monkeypatch)
    with connect("ann") as ann, connect("bo") as bo:
        image, source, target = make_job_inputs()
        slow = dict(TINY, iterations=3000)  # long enough that all of them are still there below
        jobs = [ann.submit(96, 72, image, source, target, params=slow) for _ in range(4)]
        queue = bo.estimate(96, 72)["queue"]
        assert queue["queued"] + queue["running"] == 4
        assert queue["ahead"] == 1  # ann's first job only: then it is bo's turn, before ann's other three
        assert ann.estimate(96, 72)["queue"]["ahead"] == 4
        for job in jobs:
            ann.cancel(job)
