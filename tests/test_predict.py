"""`predict` end to end through the command line, with an untrained checkpoint."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_digits.checkpoints import load_checkpoint, save_checkpoint
from mnist_digits.cli import main
from mnist_digits.reading.photo import prepare
from mnist_digits.reading.predict import expand_inputs, format_line, predict, predict_files
from mnist_digits.recipes import build_model

META = {"model": "cnn", "normalization": {"mean": 0.1307, "std": 0.3081}}


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return str(save_checkpoint(tmp_path_factory.mktemp("w") / "m.pth", build_model("cnn"), META))


def digit(path, mode="L"):
    img = Image.new(mode, (120, 160), "white")
    ImageDraw.Draw(img).ellipse((30, 20, 90, 140), outline="black", width=12)
    img.save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    for name in ["b.png", "a.JPG", "c.bmp"]:
        digit(d / name, "RGB")
    (d / "notes.txt").write_text("not an image")
    return d


def run(capsys, *argv):
    code = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_in_sorted_folder_order(capsys, weights, folder):
    code, out, err = run(capsys, folder, "--weights", weights, "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and err == ""
    assert [r["file"] for r in rows] == [str(folder / n) for n in ["a.JPG", "b.png", "c.bmp"]]
    model, meta = load_checkpoint(weights)
    for r in rows:  # the model's own softmax on the preprocessed image, sorted
        probs = predict(model, meta, prepare(r["file"])[None])[0]
        top = np.argsort(probs)[::-1][:3]
        assert r["top3"] == [[int(d), pytest.approx(float(probs[d]))] for d in top]
        assert [r["digit"], r["probability"]] == r["top3"][0] and "image" not in r
        assert r["uncertain"] is (r["probability"] < 0.5)


def test_human_lines(capsys, weights, folder):
    code, out, _ = run(capsys, folder / "a.JPG", "--weights", weights, "--threshold", "1")
    assert code == 0
    assert out.startswith(f"{folder / 'a.JPG'}: ") and "top-3: " in out
    assert out.rstrip().endswith("[uncertain]")  # nothing reaches probability 1


def test_one_bad_file_does_not_stop_the_others(capsys, weights, folder, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    code, out, err = run(capsys, bad, folder / "b.png", "--weights", weights, "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert rows[0] == {"file": str(bad), "error": rows[0]["error"]} and str(bad) in rows[0]["error"]
    assert rows[1]["file"] == str(folder / "b.png") and "digit" in rows[1]
    assert err.startswith(f"error: {bad}: ") and len(err.splitlines()) == 1


def test_missing_file_and_empty_folder(capsys, weights, folder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, tmp_path / "nope.png", empty, folder / "c.bmp",
                         "--weights", weights)
    assert code == 1 and len(out.splitlines()) == 1
    lines = err.splitlines()
    assert lines[0].startswith(f"error: {tmp_path / 'nope.png'}: no such file")
    assert lines[1].startswith(f"error: {empty}: folder holds no image files")


def test_missing_weights_is_an_error(capsys, folder, tmp_path):
    code, _, err = run(capsys, folder, "--weights", tmp_path / "none.pth")
    assert code == 2 and err.startswith("error: No weights file")


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "nan", "half"])
def test_bad_threshold_is_rejected(capsys, folder, bad):
    with pytest.raises(SystemExit) as e:
        main(["predict", str(folder), "--threshold", bad])
    assert e.value.code == 2 and "probability from 0 to 1" in capsys.readouterr().err


def test_predict_files_returns_the_preprocessed_images(weights, folder):
    results = predict_files([folder], weights)
    assert len(results) == 3
    for r in results:
        np.testing.assert_array_equal(r["image"], prepare(r["file"]))
        assert format_line(r).startswith(r["file"])


def test_an_unreadable_file_formats_as_its_message_not_a_key_error(weights, tmp_path):
    (tmp_path / "note.txt.png").write_text("not an image")
    r = predict_files([tmp_path / "note.txt.png"], weights)[0]
    assert format_line(r) == f"{r['file']}: {r['error']}" and "not" in r["error"]


def test_uncertain_means_below_the_threshold(weights, folder):
    p = predict_files([folder / "a.JPG"], weights)[0]["probability"]
    at, above = (predict_files([folder / "a.JPG"], weights, t)[0] for t in (p, p + 1e-6))
    assert not at["uncertain"] and above["uncertain"] and "[uncertain]" in format_line(above)


def test_expand_inputs_skips_hidden_and_other_files(folder):
    (folder / "._a.png").write_bytes(b"\0\0")  # macOS metadata, not an image
    names = [p.name for p, err in expand_inputs([folder]) if err is None]
    assert names == ["a.JPG", "b.png", "c.bmp"]
