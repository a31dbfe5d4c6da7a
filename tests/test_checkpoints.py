import collections
import io
import os
from dataclasses import replace

import numpy as np
import pytest
import torch

from mnist_digits.checkpoints import (
    load_checkpoint,
    make_meta,
    normalization,
    plain,
    save_checkpoint,
    weights_digest,
)
from mnist_digits.errors import MnistError
from mnist_digits.hardware import resolve
from mnist_digits.lesson import fit
from mnist_digits.reading.predict import predict_files
from mnist_digits.recipes import Config, build_model

META = {"model": "cnn", "normalization": {"mean": 0.13, "std": 0.31}, "seed": 0}


def test_round_trip_with_weights_only(tmp_path):
    model = build_model("cnn")
    path = save_checkpoint(tmp_path / "m.pth", model, META)
    raw = torch.load(path, weights_only=True, map_location="cpu")  # plain data only
    assert raw["meta"]["sha256"] == weights_digest(model.state_dict())
    loaded, meta = load_checkpoint(path)
    assert not loaded.training and meta["model"] == "cnn" and meta["seed"] == 0
    assert meta["versions"]["torch"]
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(loaded(x), model.eval()(x))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_refuses_to_overwrite_unless_asked(tmp_path):
    path = save_checkpoint(tmp_path / "m.pth", build_model("cnn"), META)
    before = path.read_bytes()
    with pytest.raises(MnistError, match="already exists.*--overwrite"):
        save_checkpoint(path, build_model("cnn"), META)
    assert path.read_bytes() == before
    save_checkpoint(path, build_model("cnn"), META, overwrite=True)


def half_written_save(monkeypatch, error: BaseException | None = None):
    """torch.save writes half of the file, then dies (Ctrl-C, disk full)."""
    real = torch.save

    def half(obj, f, *args, **kwargs):
        buf = io.BytesIO()
        real(obj, buf)
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
        f.flush()
        raise error or KeyboardInterrupt()

    monkeypatch.setattr(torch, "save", half)


@pytest.mark.parametrize("error, raised", [
    (KeyboardInterrupt(), KeyboardInterrupt),
    (OSError(28, "No space left on device"), MnistError),  # "could not write ...: No space"
    (RuntimeError("PytorchStreamWriter failed writing file data/0"), MnistError)])
def test_interrupted_save_leaves_nothing(tmp_path, monkeypatch, error, raised):
    half_written_save(monkeypatch, error)
    with pytest.raises(raised, match=None if raised is KeyboardInterrupt else
                       "could not write .*m.pth: (No space|PytorchStreamWriter)"):
        save_checkpoint(tmp_path / "m.pth", build_model("cnn"), META)
    assert list(tmp_path.iterdir()) == []  # no final-named file, no temporary file


def test_interrupted_overwrite_keeps_the_earlier_file_byte_for_byte(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.pth", build_model("cnn"), META)
    before = path.read_bytes()
    half_written_save(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, build_model("cnn"), META, overwrite=True)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    load_checkpoint(path)  # still whole


def test_weights_that_do_not_fit_the_named_architecture(tmp_path):
    path, state = tmp_path / "lie.pth", build_model("mlp").state_dict()
    torch.save({"state_dict": state, "meta": {**META, "sha256": weights_digest(state)}}, path)
    with pytest.raises(MnistError, match="do not fit that architecture"):
        load_checkpoint(path)


def test_a_checkpoint_without_digest_is_refused(tmp_path):
    path = tmp_path / "old.pth"
    torch.save({"state_dict": build_model("cnn").state_dict(), "meta": META}, path)
    with pytest.raises(MnistError, match="no SHA-256"):
        load_checkpoint(path)


def test_non_tensor_weights_are_refused(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save({"state_dict": {"w": [1, 2]}, "meta": META}, path)
    with pytest.raises(MnistError, match="not a checkpoint of this project"):
        load_checkpoint(path)


@pytest.mark.skipif(os.name == "nt", reason="Windows files have no POSIX permission bits")
def test_saved_file_is_readable_by_others(tmp_path):
    path = save_checkpoint(tmp_path / "m.pth", build_model("mlp"), {**META, "model": "mlp"})
    assert path.stat().st_mode & 0o777 == 0o644


def test_altered_weights_fail_the_digest(tmp_path):
    path = save_checkpoint(tmp_path / "m.pth", build_model("cnn"), META)
    ckpt = torch.load(path, weights_only=True)
    ckpt["state_dict"]["head.2.bias"] += 1
    torch.save(ckpt, path)
    with pytest.raises(MnistError, match="SHA-256"):
        load_checkpoint(path)


class Payload:
    """Unpickling this calls open(sentinel, "w"): code run by merely loading a file."""
    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return open, (self.sentinel, "w")


@pytest.mark.parametrize("load", [load_checkpoint, None], ids=["load_checkpoint", "predict"])
def test_pickled_code_is_refused_and_never_runs(tmp_path, load):
    sentinel, path = tmp_path / "pwned", tmp_path / "evil.pth"
    torch.save({"state_dict": build_model("cnn").state_dict(), "meta": {**META,
                "note": Payload(sentinel)}}, path)
    with pytest.raises(MnistError, match="more than tensors.*could run code"):
        load(path) if load else predict_files([], path)
    assert not sentinel.exists()
    torch.load(path, weights_only=False)  # the payload is real: loaded unsafely, it runs
    assert sentinel.exists()


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "meta": collections.Counter(a=1), "model": build_model("mlp")},
               path)
    with pytest.raises(MnistError, match="more than tensors"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", None])
def test_unreadable_files_are_clear_errors(tmp_path, content):
    path = tmp_path / "bad.pth"
    if content is None:  # a real checkpoint, truncated
        save_checkpoint(path, build_model("cnn"), META)
        path.write_bytes(path.read_bytes()[:5000])
    else:
        path.write_bytes(content)
    with pytest.raises(MnistError, match="bad.pth"):
        load_checkpoint(path)


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(MnistError, match="No weights file.*train"):
        load_checkpoint(tmp_path / "nope.pth")


def test_make_meta_records_what_the_model_needs(tiny):
    cfg = Config(model="mlp", seed=7, precision="auto", layout="auto")
    metrics = {"accuracy": 91.0, "loss": 0.3, "correct": 91, "total": 100,
               "per_class": [91.0] * 10, "extra": "dropped"}
    history = fit(build_model("mlp"), tiny, replace(cfg, epochs=2, batch_size=64), quiet=True)
    meta = make_meta(history, tiny, metrics)
    assert meta["model"] == "mlp" and meta["seed"] == 7
    assert meta["config"] == resolve(replace(cfg, epochs=2, batch_size=64),
                                     tiny.train_x.device).to_dict()
    assert meta["config"]["precision"] in ("bf16", "fp32")  # decided by fit, not "auto"
    assert meta["normalization"] == {"mean": tiny.mean, "std": tiny.std}
    assert meta["metrics"] == {k: v for k, v in metrics.items() if k != "extra"}
    assert len(meta["history"]["val_acc"]) == 2
    assert set(meta["history"]) == {"train_loss", "val_loss", "val_acc", "seconds"}


def test_save_makes_missing_folders_and_records_provenance(tmp_path):
    path = save_checkpoint(tmp_path / "a/b/m.pth", build_model("linear"), {**META,
                           "model": "linear"})
    meta = torch.load(path, weights_only=True)["meta"]
    assert {"git_commit", "versions", "sha256"} <= set(meta) and meta["versions"]["torch"]


def test_the_temporary_file_sits_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real = torch.save

    def look(obj, f, *args, **kwargs):
        seen.extend(p.name for p in tmp_path.iterdir())
        real(obj, f)

    monkeypatch.setattr(torch, "save", look)
    save_checkpoint(tmp_path / "m.pth", build_model("linear"), {**META, "model": "linear"})
    assert len(seen) == 1 and seen[0].startswith("m.pth") and seen[0].endswith(".part")


def test_refusal_messages_say_what_was_found(tmp_path):
    state = build_model("cnn").state_dict()
    path = tmp_path / "odd.pth"
    torch.save({"state_dict": state, "meta": {**META, "model": "resnet",
                                              "sha256": weights_digest(state)}}, path)
    with pytest.raises(MnistError, match="unknown architecture 'resnet'; known: linear, mlp, "):
        load_checkpoint(path)
    torch.save({"state_dict": state, "meta": {**META, "model": 3}}, path)
    with pytest.raises(MnistError, match="unknown architecture 3"):
        load_checkpoint(path)
    wrong = build_model("mlp").state_dict()
    torch.save({"state_dict": wrong, "meta": {**META, "sha256": weights_digest(wrong)}}, path)
    with pytest.raises(MnistError, match=r"do not fit that architecture \(Missing key\(s\) in "
                                         r"state_dict: \"features.0.0.weight\""):
        load_checkpoint(path)
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "meta": Payload(tmp_path / "x")}, evil)
    detail = "project. WeightsUnpickler error: Unsupported global: GLOBAL io.open"
    with pytest.raises(MnistError, match=detail):
        load_checkpoint(evil)
    (tmp_path / "bad.pth").write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(MnistError, match="bad.pth is not a (readable )?PyTorch checkpoint"):
        load_checkpoint(tmp_path / "bad.pth")


def test_metadata_is_made_plain_and_bad_values_are_refused():
    assert plain({"a": np.float32(1.5), "b": torch.tensor(2), "c": [np.int64(3)]}) == \
        {"a": 1.5, "b": 2, "c": [3]}
    with pytest.raises(MnistError, match="must be plain Python values: .*set"):
        plain({"a": {1, 2}})


@pytest.mark.parametrize("norm", [{"mean": 0.1, "std": 0.0}, {"mean": float("nan"), "std": 0.3},
                                  {"mean": 0.1, "std": float("inf")}, {"mean": 0.1}, None])
def test_unusable_normalisation_is_refused(norm):
    with pytest.raises(MnistError, match="m.pth records no usable normalisation"):
        normalization({"normalization": norm}, "m.pth")
    assert normalization({"normalization": {"mean": 0.1, "std": 0.3}}, "m.pth") == (0.1, 0.3)


@pytest.mark.parametrize("config, channels_last", [({"layout": "channels_last"}, True),
                                                    ({"layout": "contiguous"}, False),
                                                    (None, False)])  # a str: refused
def test_loaded_models_keep_the_memory_layout_they_were_trained_in(tmp_path, config,
                                                                    channels_last):
    meta = {**META, **({"config": config} if config is not None else {})}
    path = save_checkpoint(tmp_path / "m.pth", build_model("cnn"), meta)
    model, _ = load_checkpoint(path)
    conv = next(p for p in model.parameters() if p.dim() == 4 and p.shape[1] > 1)
    assert conv.is_contiguous(memory_format=torch.channels_last) is channels_last
    assert conv.is_contiguous() is not channels_last
