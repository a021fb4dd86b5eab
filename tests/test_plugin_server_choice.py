"""The plug-in's server choice (Server Settings), GIMP left out: what a designer may
type, the saved file, and a run's connection to a studio server (a real --curve
server on 127.0.0.1) or to this computer's."""

import json

import pytest

import magic_client
from magic_client import curve
from magic_gimp_core import preflight
from magic_gimp_core.messages import UserError
from magic_gimp_core.server_choice import (CHOICE_FILE, STUDIO, ServerChoice, check_address, load_choice,
                                           save_choice, studio_choice)
from magic_gimp_core.server_job import connect
from magic_gimp_core.settings import PluginSettings

KEY = "rq5@Z8]Xvp-I{W7sHi)k3N*9PfzP[d=JbE2cLq0n"  # any valid Z85 public key


def test_addresses_a_designer_may_type():
    assert check_address(" tcp://gpu-box:5555 ") == "tcp://gpu-box:5555"
    assert check_address("gpu-box:5555") == "tcp://gpu-box:5555"
    assert check_address("tcp://[::1]:5555") == "tcp://[::1]:5555"
    for bad in ("gpu-box", "tcp://gpu-box", "tcp://:5555", "http://gpu-box:5555", "tcp://gpu-box:0",
                "tcp://gpu-box:99999", "", "tcp://gpu box:5555", "tcp://*:5555", "tcp://gpu-box-:5555"):
        with pytest.raises(UserError, match="tcp://HOST:PORT"):
            check_address(bad)


def test_a_studio_choice_needs_a_real_key():
    assert studio_choice("gpu-box:5555", f" {KEY}\n", curve.check_public_key) == \
        ServerChoice(STUDIO, "tcp://gpu-box:5555", KEY)
    with pytest.raises(UserError, match="key is empty"):
        studio_choice("gpu-box:5555", " ", curve.check_public_key)
    with pytest.raises(UserError, match="not a CURVE public key"):
        studio_choice("gpu-box:5555", KEY[:-1], curve.check_public_key)


def test_the_choice_is_saved_whole_and_damage_means_this_computer(tmp_path):
    assert load_choice(str(tmp_path)) == (ServerChoice(), None)  # nothing saved: this computer
    studio = ServerChoice(STUDIO, "tcp://gpu-box:5555", KEY)
    save_choice(str(tmp_path / "new"), studio)
    assert load_choice(str(tmp_path / "new")) == (studio, None)
    save_choice(str(tmp_path / "new"), ServerChoice())
    assert load_choice(str(tmp_path / "new")) == (ServerChoice(), None)
    for text in ("{not json", json.dumps({"kind": "cloud"}), json.dumps({"kind": STUDIO, "address": "x"}),
                 json.dumps({"kind": STUDIO, "address": "tcp://gpu box:5555", "server_key": KEY})):
        (tmp_path / CHOICE_FILE).write_text(text)
        choice, problem = load_choice(str(tmp_path))
        assert choice == ServerChoice() and str(tmp_path / CHOICE_FILE) in problem


def test_the_dialog_names_the_studio_server():
    hello = {"devices": [{"name": "cuda:0", "description": "NVIDIA H100"}], "queue": {"queued": 1, "running": 1}}
    assert preflight.server_line("running", hello, studio="tcp://gpu-box:5555") == \
        "Server: the studio server tcp://gpu-box:5555, running on NVIDIA H100; 2 job(s) ahead of this one."
    # Other designers' batches: the clients take turns, so fewer are ahead than are queued.
    hello["queue"] = {"queued": 20, "running": 1, "ahead": 2}
    assert "; 2 job(s) ahead of this one." in preflight.server_line("running", hello, studio="tcp://gpu-box:5555")
    assert preflight.server_line("connecting", studio="tcp://gpu-box:5555") == \
        "Server: connecting to the studio server tcp://gpu-box:5555…"


def test_a_run_reaches_the_studio_server_once_its_key_is_allowed(server_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("MAGIC_GIMP_HOME", str(tmp_path / "designer"))
    allowed = tmp_path / "allowed.txt"
    allowed.write_text("")
    studio = server_factory(extra_args=["--curve", "--allow-keys", allowed])
    info = studio.runtime_info()
    # The plug-in's own settings name no server command: a studio run never starts one here.
    settings = PluginSettings(plugin_dir=str(tmp_path), config_path=str(tmp_path / "magic-gimp.json"))
    choice = studio_choice(info["endpoint"], info["server_key"], curve.check_public_key)
    with pytest.raises(UserError) as refused:
        connect(magic_client, settings, choice=choice)
    text = str(refused.value)
    assert "does not allow this computer's key" in text and curve.client_keys().public_text in text
    assert "Server Settings" in text
    allowed.write_text(curve.client_keys().public_text + "\n")
    client = connect(magic_client, settings, choice=choice)
    try:
        assert client.endpoint == info["endpoint"] and client.info["protocol"] == 1
    finally:
        client.close()
