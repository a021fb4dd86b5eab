"""The command lines: `python -m magic_server.client` for designers' scripts
and `python -m magic_client` (standard library only)."""

import json
import subprocess
import sys

import pytest
from PIL import Image, ImageDraw


def run(module, *args, timeout=180):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def photo(tmp_path):
    image = Image.new("RGB", (120, 90), (40, 120, 200))
    ImageDraw.Draw(image).ellipse((10, 20, 40, 50), fill=(220, 30, 30))
    image.save(tmp_path / "photo.png")
    source = Image.new("L", (120, 90), 0)
    ImageDraw.Draw(source).ellipse((8, 18, 42, 52), fill=255)
    source.save(tmp_path / "source.png")
    # a selection exported as white with alpha: the alpha is the mask
    target = Image.new("RGBA", (120, 90), (255, 255, 255, 0))
    ImageDraw.Draw(target).ellipse((70, 20, 104, 54), fill=(255, 255, 255, 255))
    target.save(tmp_path / "target.png")
    return tmp_path / "photo.png", tmp_path / "source.png", tmp_path / "target.png"


@pytest.mark.slow
def test_submit_writes_composites_mask_and_report(magic_server, photo, tmp_path):
    out = tmp_path / "out"
    done = run("magic_server.client", "--runtime-file", magic_server.runtime_file, "submit", *photo, "--out", out,
               "--preset", "tiny", "--variants", "3", "--seed", "4")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("job ") and "wrote 3 result(s)" in done.stdout
    assert "synthesis" in done.stderr  # progress, one line per step of 10 % when not on a terminal
    assert sorted(p.name for p in out.iterdir()) == ["composite_0.png", "composite_1.png", "composite_2.png",
                                                     "edit_mask.png", "report.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["params"]["variants"] == 3 and report["seed"] == 4 and report["job_id"] in done.stdout
    original = Image.open(photo[0]).convert("RGB")
    composite = Image.open(out / "composite_0.png")
    mask = Image.open(out / "edit_mask.png")
    assert composite.size == original.size and composite.mode == "RGB"
    assert mask.getbbox() is not None
    kept = [xy for xy in ((x, y) for y in range(90) for x in range(120)) if mask.getpixel(xy) == 0]
    assert kept and all(composite.getpixel(xy) == original.getpixel(xy) for xy in kept)


def test_no_wait_then_fetch_status_jobs(magic_server, photo, tmp_path):
    rf = ("--runtime-file", magic_server.runtime_file)
    done = run("magic_server.client", *rf, "submit", *photo, "--out", tmp_path / "unused", "--preset", "tiny",
               "--no-wait")
    assert done.returncode == 0, done.stderr
    job = done.stdout.split()[1]
    assert not (tmp_path / "unused").exists()
    fetched = run("magic_server.client", *rf, "fetch", job, "--out", tmp_path / "later")
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "later" / "composite_1.png").exists()
    status = run("magic_server.client", *rf, "status", job)
    assert json.loads(status.stdout)["state"] == "done"
    listing = run("magic_server.client", *rf, "jobs")
    assert any(line.startswith(job) and "done" in line for line in listing.stdout.splitlines())


@pytest.mark.slow
def test_only_what_the_engine_reads_travels_and_the_results_are_the_same(magic_server, tmp_path):
    image = Image.effect_noise((400, 300), 60).convert("RGB")  # texture for the fill to copy
    image.save(tmp_path / "photo.png")
    for name, box in (("source", (10, 20, 30, 40)), ("target", (50, 20, 70, 40))):
        mask = Image.new("L", (400, 300), 0)
        ImageDraw.Draw(mask).rectangle(box, fill=255)
        mask.save(tmp_path / f"{name}.png")
    files = [tmp_path / "photo.png", tmp_path / "source.png", tmp_path / "target.png"]
    rf = ("--runtime-file", magic_server.runtime_file)
    common = ("--preset", "tiny", "--variants", "2", "--seed", "5")
    cropped = run("magic_server.client", *rf, "submit", *files, "--out", tmp_path / "cropped", *common)
    whole = run("magic_server.client", *rf, "submit", *files, "--out", tmp_path / "whole", *common, "--whole")
    assert cropped.returncode == 0 and whole.returncode == 0, cropped.stderr + whole.stderr
    # What travelled: both masks' box (10, 20)-(71, 41) grown by max(16, ceil(0.25 x 61)) px,
    # (0, 4)-(87, 57), and the photo around it the fill reads (its own size again): 174x110 of 400x300.
    report = json.loads((tmp_path / "cropped" / "report.json").read_text())
    assert report["placement"] == {"left": 0, "top": 0, "width": 400, "height": 300}
    status = json.loads(run("magic_server.client", *rf, "status", report["job_id"]).stdout)
    assert (status["width"], status["height"]) == (174, 110)
    # The engine read the same pixels, so the results are the same, put back into the photo.
    for name in ("composite_0.png", "composite_1.png", "edit_mask.png"):
        a, b = Image.open(tmp_path / "cropped" / name), Image.open(tmp_path / "whole" / name)
        assert a.size == b.size == (400, 300) and a.tobytes() == b.tobytes(), name
    # Fetched later: the crop, unless the photo is given again.
    fetched = run("magic_server.client", *rf, "fetch", report["job_id"], "--out", tmp_path / "later")
    assert fetched.returncode == 0 and "Add --image PHOTO" in fetched.stderr
    assert Image.open(tmp_path / "later" / "composite_0.png").size == (174, 110)
    again = run("magic_server.client", *rf, "fetch", report["job_id"], "--out", tmp_path / "again", "--image", files[0])
    assert again.returncode == 0, again.stderr
    assert Image.open(tmp_path / "again" / "composite_0.png").tobytes() == \
        Image.open(tmp_path / "cropped" / "composite_0.png").tobytes()


def test_bad_inputs_are_explained_before_contacting_a_server(photo, tmp_path):
    Image.new("L", (100, 90)).save(tmp_path / "small.png")
    done = run("magic_server.client", "--runtime-file", tmp_path / "nowhere.json", "submit", photo[0],
               tmp_path / "small.png", photo[2], "--out", tmp_path / "o")
    assert done.returncode == 2
    assert "100x90" in done.stderr and "120x90" in done.stderr
    done = run("magic_server.client", "--runtime-file", tmp_path / "nowhere.json", "submit",
               tmp_path / "missing.png", *photo[1:], "--out", tmp_path / "o")
    assert done.returncode == 2 and "missing.png does not exist" in done.stderr


def test_no_server_is_a_clear_error(tmp_path):
    done = run("magic_server.client", "--runtime-file", tmp_path / "nowhere.json", "jobs")
    assert done.returncode == 1 and "no MAGIC server is running" in done.stderr


def test_stdlib_cli_says_hello(magic_server):
    done = run("magic_client", "--runtime-file", magic_server.runtime_file, "hello")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MAGIC server 0.1.0 (protocol 1") and "random resnet18" in done.stdout
    raw = run("magic_client", "--runtime-file", magic_server.runtime_file, "--json", "hello")
    assert json.loads(raw.stdout)["protocol"] == 1


def test_damaged_huge_and_rotated_files(photo, tmp_path):
    """Each refused from what its header says, with a message, never a traceback;
    EXIF orientation applied, 16-bit masks scaled (not clipped), and no torch
    imported to read them (the client reads files with magic_engine.inputs)."""
    import numpy as np

    from image_files import bomb_png, portrait_jpeg, truncated_png
    from magic_server.client import read_image_rgba, read_mask

    _, source, target = photo
    for bad, expected in ((truncated_png(tmp_path / "cut.png"), "damaged or cut short"),
                          (bomb_png(tmp_path / "bomb.png"), "too large to open safely"),
                          (bomb_png(tmp_path / "big.png", 12000, 9000), "12000x9000 px (108 MP); the limit is 100 MP")):
        done = run("magic_server.client", "submit", bad, source, target, "--out", tmp_path / "out")
        assert done.returncode == 2 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    width, height, _ = read_image_rgba(str(portrait_jpeg(tmp_path / "portrait.jpg", stored=(120, 90))))
    assert (width, height) == (90, 120)
    soft = (np.linspace(0, 65535, 120 * 90).reshape(90, 120)).astype(np.uint16)
    Image.fromarray(soft).save(tmp_path / "soft16.png")
    sent = np.frombuffer(read_mask(str(tmp_path / "soft16.png"), "mask", (120, 90)), np.uint8).reshape(90, 120)
    assert abs(int(sent.max()) - 255) <= 1 and sent.min() == 0 and 0.45 < (sent >= 128).mean() < 0.55
    alone = subprocess.run([sys.executable, "-c", "import sys, magic_server.client; print('torch' in sys.modules)"],
                           capture_output=True, text=True, timeout=120)
    assert alone.stdout.strip() == "False", alone.stderr
