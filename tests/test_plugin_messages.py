"""Every failure reaches the user as a message that says what to do."""

from __future__ import annotations

from magic_client import JobCancelled, JobFailed, MagicClientError, ServerError, ServerUnavailable
from magic_gimp_core import messages


def test_client_errors_become_actionable_messages():
    describe = messages.describe_failure
    assert "cancelled; nothing was added" in describe(JobCancelled("j1"))
    text = describe(JobFailed("j1", "the source mask is empty after cropping", "bad_input"))
    assert text.startswith("MAGIC could not make results: the source mask is empty") and "Nothing was added" in text
    assert "Run MAGIC again" in describe(JobFailed("j1", "server stopped", "interrupted"))
    text = describe(ServerUnavailable("no MAGIC server is running (no runtime file at /x)."))
    assert text.startswith("MAGIC cannot reach its server: no MAGIC server is running") and "installer" in text
    assert "do not match" in describe(ServerUnavailable("protocol 2 vs 1", "bad_version"))
    assert "busy" in describe(ServerError("queue is full", "queue_full"))
    assert describe(ServerError("image too large; crop it", "too_large")) == \
        "The MAGIC server refused the job: image too large; crop it"
    assert "talking to its server: closed" in describe(MagicClientError("closed"))
    assert describe(messages.UserError("Select a layer.")) == "Select a layer."


def test_missing_weights_are_named_as_such_by_their_code():
    text = messages.describe_failure(ServerUnavailable(
        "the MAGIC server exited with code 5 while starting:\nWeightsMissing: /w.ckpt", "weights_missing"))
    assert "weights are missing" in text and "--only weights" in text
    text = messages.describe_failure(JobFailed("j", "WeightsMissing: /w.ckpt", "weights_missing"))
    assert "--only weights" in text
    # The words alone decide nothing: another failure that mentions weights is that failure.
    text = messages.describe_failure(JobFailed("j", "classifier weights do not match resnet50", "engine_error"))
    assert "--only weights" not in text and text.startswith("MAGIC could not make results")


def test_unexpected_errors_say_so_without_a_traceback():
    text = messages.describe_failure(KeyError("layers"))
    assert text.startswith("MAGIC failed unexpectedly: KeyError") and "Traceback" not in text


def test_zmq_missing_says_exactly_how_to_fix_it():
    text = messages.zmq_missing(ImportError("No module named 'zmq'"), "/p/magic-gimp/vendor", "/usr/bin/python3",
                                (3, 13))
    assert "GIMP's Python (/usr/bin/python3, Python 3.13)" in text
    assert "sudo apt install python3-zmq" in text and "installer" in text and "/p/magic-gimp/vendor" in text


def test_server_not_installed_names_the_program_and_the_settings_file():
    text = messages.server_not_installed(["/opt/venv/bin/python", "-m", "magic_server"],
                                         FileNotFoundError(2, "No such file or directory"), "/g/magic-gimp.json")
    assert "not installed" in text and "/opt/venv/bin/python" in text and "No such file" in text
    assert "/g/magic-gimp.json" in text


def test_weights_warning_comes_from_a_real_servers_hello(magic_server):
    with magic_server.client() as client:
        hello = client.hello()
    text = messages.weights_warning(hello)
    assert text is not None and "UNTRAINED" in text and "--only weights" in text
    assert messages.weights_warning({"classifiers": [{"name": "robust", "warning": None}]}) is None


def test_without_a_server_command_the_start_command_is_named_once():
    for detail in ("no MAGIC server is running (no runtime file at /r.json). Start one with `python -m magic_server`.",
                   "the MAGIC server (pid 7) is no longer running; its runtime file /r.json is stale."):
        text = messages.no_server_and_no_command(detail, "/p/magic-gimp.json has no \"server_command\"")
        assert text.count("python -m magic_server") == 1 and detail in text and "magic-gimp.json" in text


def test_failures_are_told_apart_by_where_they_failed_not_by_their_class():
    # What decides is `failed_at` and `code`, which every client exception carries,
    # not what its class is called.
    class Unreachable(Exception):
        failed_at, code = "connection", None

    class Stopped(Exception):
        failed_at, code = "job", "interrupted"

    assert messages.describe_failure(Unreachable("no server")).startswith("MAGIC cannot reach its server")
    assert "Run MAGIC again" in messages.describe_failure(Stopped("server stopped"))
    assert [cls.failed_at for cls in (ServerUnavailable, ServerError, JobFailed, JobCancelled, MagicClientError)] \
        == ["connection", "request", "job", "job", "client"]
