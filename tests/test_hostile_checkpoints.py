"""Issue 19: hostile or broken checkpoints are refused with one clear error (zip bombs before
they are unpacked, odd tensors and metadata after), and train never loses a trained model to
a failed save (its --out is checked before training; a save that still fails is rescued)."""
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from conftest import ROOT, synthetic_splits

from mnist_digits import checkpoint_guards, checkpoints
from mnist_digits.checkpoint_guards import (
    META_ALLOWANCE,
    check_writable,
    largest_state_bytes,
    probe,
)
from mnist_digits.checkpoints import load_checkpoint, read_checkpoint, save_checkpoint
from mnist_digits.cli import main
from mnist_digits.errors import MnistError
from mnist_digits.lesson import History
from mnist_digits.reading.predict import load_model
from mnist_digits.recipes import MODELS, build_model

META = {"model": "linear", "normalization": {"mean": 0.13, "std": 0.31}, "seed": 0}
MB = 2**20


def refused(path, match: str, capsys, load=load_checkpoint) -> None:
    """One MnistError from `load`, and from `evaluate` exit 2 with exactly one 'error:' line."""
    with pytest.raises(MnistError, match=match):
        load(path)
    capsys.readouterr()
    assert main(["evaluate", "--weights", str(path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert re.search(match, err) and str(path) in err, err


def never_unpacked(monkeypatch) -> None:
    def fail(f):
        pytest.fail("torch.load was called on a file that should be refused unopened")
    monkeypatch.setattr(checkpoints, "load_weights", fail)


def bomb(folder: Path, size: int, name: str = "bomb.pth") -> Path:
    """A real checkpoint whose first tensor record is replaced by `size` zero bytes, deflated:
    a small file declaring a huge entry. Streamed in 1 MB chunks: never held in memory."""
    src, path = save_checkpoint(folder / "src.pth", build_model("linear"), META), folder / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                       compresslevel=9) as zout:
        for info in zin.infolist():
            if not info.filename.endswith("/data/0"):
                zout.writestr(info, zin.read(info))
                continue
            with zout.open(info.filename, "w", force_zip64=True) as f:
                for _ in range(size // MB):
                    f.write(bytes(MB))
    return path


@pytest.fixture(scope="module")
def gigabyte_bomb(tmp_path_factory) -> Path:
    return bomb(tmp_path_factory.mktemp("bomb"), 1024 * MB)


def test_the_limit_is_the_largest_architecture_plus_the_metadata_allowance():
    sizes = {name: sum(t.numel() * t.element_size() for t in build_model(name).state_dict()
                       .values()) for name in MODELS}  # the models a checkpoint may hold
    assert largest_state_bytes() == sizes["best"] == max(sizes.values()) > 600_000
    assert META_ALLOWANCE == 2 * MB


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch, capsys):
    path = bomb(tmp_path, 16 * MB)
    assert path.stat().st_size < MB  # 16 MB of zeros deflate to ~70 KB
    never_unpacked(monkeypatch)
    refused(path, r"refused unopened: it would unpack to 16\.\d MB \(its entry "
                  r"'[^']*/data/0' alone 16\.0 MB\), more than the 2\.6 MB", capsys)


def test_a_gigabyte_zip_bomb_is_refused_at_the_real_limit(gigabyte_bomb, monkeypatch, capsys):
    assert gigabyte_bomb.stat().st_size < 2 * MB  # under the file limit: the entries decide
    with zipfile.ZipFile(gigabyte_bomb) as z:
        assert max(i.file_size for i in z.infolist()) == 1024 * MB
    never_unpacked(monkeypatch)
    refused(gigabyte_bomb, r"would unpack to 1,024\.\d MB .*alone 1,024\.0 MB", capsys)


def test_a_file_larger_than_the_limit_is_refused_without_reading_its_directory(tmp_path,
                                                                              monkeypatch):
    path = tmp_path / "big.pth"
    with zipfile.ZipFile(path, "w") as z:  # stored: the file itself is 7 MB
        z.writestr("archive/data.pkl", bytes(7 * MB))
    never_unpacked(monkeypatch)
    monkeypatch.setattr(checkpoint_guards, "entry_sizes", lambda p: pytest.fail("opened"))
    with pytest.raises(MnistError, match=r"unpack to 7\.0 MB, more than the 2\.6 MB"):
        load_checkpoint(path)


def test_the_limit_is_exact(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.pth", build_model("linear"), META)
    with zipfile.ZipFile(path) as z:
        total = max(path.stat().st_size, sum(i.file_size for i in z.infolist()))  # headers
    monkeypatch.setattr(checkpoint_guards, "largest_state_bytes", lambda: total - META_ALLOWANCE)
    load_checkpoint(path)
    monkeypatch.setattr(checkpoint_guards, "largest_state_bytes", lambda: total - 1 -
                        META_ALLOWANCE)
    with pytest.raises(MnistError, match="refused unopened"):
        load_checkpoint(path)


def test_the_largest_model_with_a_long_history_and_the_committed_weights_fit(tmp_path):
    history = {k: [0.123456789] * 10_000 for k in ("train_loss", "val_loss", "val_acc")}
    path = save_checkpoint(tmp_path / "best.pth", build_model("best"),
                           {**META, "model": "best", "history": history})
    assert load_checkpoint(path)[1]["model"] == "best"
    for committed in sorted((ROOT / "weights").glob("*.pth")):
        read_checkpoint(committed)


def raw_checkpoint(tmp_path, change: dict | None = None, meta: dict | None = None) -> Path:
    """A linear checkpoint with tensors replaced and meta changed, its SHA-256 recorded when it
    can be computed (so the refusal is not the digest's)."""
    state = {**build_model("linear").state_dict(), **(change or {})}
    try:
        digest = checkpoints.weights_digest(state)
    except (RuntimeError, TypeError, NotImplementedError):  # sparse, meta: no bytes to hash
        digest = "0" * 64
    path = tmp_path / "odd.pth"
    torch.save({"state_dict": state, "meta": {**META, "sha256": digest, **(meta or {})}}, path)
    return path


def weight_with(value: float) -> torch.Tensor:
    w = build_model("linear").state_dict()["net.1.weight"].clone()
    w[3, 7] = value
    return w


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_weights_are_refused(tmp_path, capsys, value):
    path = raw_checkpoint(tmp_path, {"net.1.weight": weight_with(value)})
    refused(path, r"the weight 'net\.1\.weight' holds NaN or infinite values", capsys)


def test_non_finite_weights_saved_by_this_project_are_refused(tmp_path, capsys):
    model = build_model("linear")
    with torch.no_grad():
        model.net[1].bias[0] = float("nan")  # a diverged training run
    path = save_checkpoint(tmp_path / "m.pth", model, META)
    refused(path, r"'net\.1\.bias' holds NaN", capsys)


W = build_model("linear").state_dict()["net.1.weight"]


@pytest.mark.filterwarnings("error")  # torch's warnings on odd tensors stay off stderr too
@pytest.mark.parametrize("make, match", [
    (lambda: W.to_sparse(), "is a torch.sparse_coo tensor, not a dense one"),
    (lambda: W.to_sparse_csr(), "is a torch.sparse_csr tensor, not a dense one"),
    (lambda: torch.empty(10, 784, device="meta"), "is a meta tensor, with no values"),
    (lambda: W.to(torch.complex64), "holds torch.complex64 numbers, not real ones"),
], ids=["sparse", "sparse_csr", "meta", "complex"])
def test_tensors_that_are_not_dense_real_cpu_values_are_refused(tmp_path, capsys, make, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # making a CSR tensor warns: it is in beta
        tensor = make()
    refused(raw_checkpoint(tmp_path, {"net.1.weight": tensor}), f"'net.1.weight' {match}",
            capsys)


@pytest.mark.parametrize("meta, match", [
    ({"metrics": [99.0]}, r"meta\['metrics'\] is a list, not a dict"),
    ({"metrics": None}, r"meta\['metrics'\] is a NoneType, not a dict"),
    ({"config": "fast"}, r"meta\['config'\] is a str, not a dict"),
    ({"model": "resnet"}, "unknown architecture 'resnet'"),
])
def test_metadata_of_the_wrong_shape_is_refused(tmp_path, capsys, meta, match):
    refused(raw_checkpoint(tmp_path, meta=meta), match, capsys)


@pytest.mark.parametrize("norm, shown", [
    ({"mean": 0.13, "std": 1e-300}, "mean 0.13, std 1e-300"),
    ({"mean": 5, "std": 0.31}, "mean 5, std 0.31"),
    ({"mean": -0.1, "std": 0.31}, "mean -0.1, std 0.31"),
    ({"mean": 0.13, "std": 3.0}, "mean 0.13, std 3"),
    ({"mean": 0.13, "std": 10**400}, None),  # too large for a float
])
def test_absurd_normalisation_is_refused(tmp_path, capsys, norm, shown):
    path = save_checkpoint(tmp_path / "m.pth", build_model("linear"),
                           {**META, "normalization": norm})
    detail = f": {shown}, but MNIST pixels lie in \\[0, 1\\]" if shown else r" \(mean and std\)"
    refused(path, "records no usable normalisation" + detail, capsys, load=load_model)


@pytest.mark.parametrize("norm", [{"mean": 0.0, "std": 1e-3}, {"mean": 1.0, "std": 1.0}])
def test_normalisation_at_the_limits_is_accepted(tmp_path, norm):
    path = save_checkpoint(tmp_path / "m.pth", build_model("linear"),
                           {**META, "normalization": norm})
    assert load_model(path)[1]["normalization"] == norm


# train: the --out is checked before training, and a save that still fails is rescued


@pytest.fixture
def fake_training(monkeypatch):
    """train's data and training replaced by tiny synthetic ones; records each call."""
    calls = []

    def load_splits(cfg):
        calls.append("load_splits")
        return synthetic_splits(64)

    def train_model(cfg, data):
        calls.append("train_model")
        torch.manual_seed(1)
        model = build_model(cfg.model)
        calls.append(model)
        return model, History([1.0], [1.0], [50.0], [0.5], cfg.to_dict())

    monkeypatch.setattr("mnist_digits.data.load_splits", load_splits)
    monkeypatch.setattr("mnist_digits.recipes.train_model", train_model)
    return calls


def train(out, capsys, *extra) -> str:
    """Runs train; asserts exit 2 and exactly one 'error:' line on stderr, and returns it."""
    capsys.readouterr()
    assert main(["train", "--model", "linear", "--out", str(out), "--device", "cpu",
                 *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    return err


def no_space(*args):
    raise OSError(28, "No space left on device")


def no_permission(*args, **kwargs):
    raise PermissionError(13, "Permission denied")


@pytest.mark.parametrize("case, match", [
    ("under a file", r"cannot write .*notes.txt/sub/m.pth: .*notes.txt is a file, not a folder"),
    ("a folder", r"is a folder; --out needs a file name, such as .*/model.pth"),
    ("unwritable", r"cannot write .*m.pth: Permission denied. Choose another --out"),
    ("full disk", r"only 1.0 MB free in .* \(needs 16 MB\)"),
    ("name too long", r"File name too long"),
])
def test_train_refuses_an_unwritable_out_before_training(tmp_path, capsys, monkeypatch,
                                                         fake_training, case, match):
    (tmp_path / "notes.txt").write_text("a file")
    out = {"under a file": tmp_path / "notes.txt/sub/m.pth", "a folder": tmp_path,
           "name too long": tmp_path / ("m" * 250 + ".pth")}.get(case, tmp_path / "new/m.pth")
    if case == "unwritable":  # as os.access cannot tell (and root could write anyway)
        monkeypatch.setattr("tempfile.mkstemp", no_permission)
    if case == "full disk":
        monkeypatch.setattr("shutil.disk_usage", lambda p: type("U", (), {"free": MB}))
    assert re.search(match, train(out, capsys, "--overwrite"))
    assert fake_training == []  # refused before the data was loaded
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]  # nothing made, no probe left


def test_check_writable_makes_nothing(tmp_path):
    check_writable(tmp_path / "a/b/m.pth", overwrite=False)
    (tmp_path / "m.pth").write_bytes(b"old")
    check_writable(tmp_path / "m.pth", overwrite=True)
    with pytest.raises(MnistError, match="already exists.*--overwrite"):
        check_writable(tmp_path / "m.pth", overwrite=False)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pth"]


def fail_first_save(monkeypatch) -> None:
    """The first save (the save to --out) fails as a full disk does; later ones work."""
    real, calls = checkpoints.save_model, []

    def save_model(path, model, meta):
        calls.append(1)
        if len(calls) == 1:
            no_space()
        return real(path, model, meta)

    monkeypatch.setattr(checkpoints, "save_model", save_model)


def test_a_save_failing_after_training_leaves_a_rescue_file(tmp_path, capsys, monkeypatch,
                                                            fake_training):
    monkeypatch.chdir(tmp_path)
    fail_first_save(monkeypatch)
    out = tmp_path / "out/m.pth"
    err = train(out, capsys)
    assert fake_training[:2] == ["load_splits", "train_model"]
    assert f"training finished, but could not write {out}: No space left on device" in err
    rescued = Path(re.search(r"saved to (\S+) instead", err)[1])
    assert rescued.parent == tmp_path / "runs"
    assert re.fullmatch(r"mnist-digits-rescued-linear-\d{8}-\d{6}-\d+\.pth", rescued.name)
    model, meta = load_checkpoint(rescued)
    assert meta["model"] == "linear"
    trained = fake_training[2].state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in model.state_dict().items())
    assert meta["metrics"]["total"] == 16 and not out.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [rescued]  # no partial files


def test_the_rescue_falls_back_to_the_temporary_folder(tmp_path, capsys, monkeypatch,
                                                       fake_training):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").write_text("a file where runs/ would be")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path / "tmp"))
    fail_first_save(monkeypatch)
    err = train(tmp_path / "m.pth", capsys)
    rescued = Path(re.search(r"saved to (\S+) instead", err)[1])
    assert rescued.parent == tmp_path / "tmp" and load_checkpoint(rescued)


def test_a_model_that_cannot_be_saved_anywhere_is_said_lost(tmp_path, capsys, monkeypatch,
                                                            fake_training):
    monkeypatch.setattr(checkpoints, "save_model", lambda *a: no_space())
    err = train(tmp_path / "m.pth", capsys)
    assert "No rescue copy could be written either" in err and "the trained model is lost" in err
    assert list(tmp_path.rglob("*.p*")) == []


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_save_checkpoint_failures_are_clear_errors(tmp_path, where):
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    path = tmp_path / ("d" if where == "a folder" else "f/m.pth")
    with pytest.raises(MnistError, match=f"could not write {re.escape(str(path))}: "):
        save_checkpoint(path, build_model("linear"), META, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "f"] and not any(
        (tmp_path / "d").iterdir())


def test_the_probe_is_made_where_the_checkpoint_will_be_and_named_like_its_temp_file(
        tmp_path, monkeypatch):
    made = []
    real = tempfile.mkstemp

    def recording(**kw):
        made.append(kw)
        return real(**kw)
    monkeypatch.setattr(tempfile, "mkstemp", recording)
    check_writable(tmp_path / "sub" / "m.pth", overwrite=False)
    assert made == [{"dir": tmp_path, "prefix": "m.pth", "suffix": ".part"}]
    assert list(tmp_path.iterdir()) == []  # nothing left, not even the folder


def test_the_probe_fails_in_a_folder_that_is_not_there(tmp_path):
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "missing", "m.pth")


def test_free_space_exactly_at_the_minimum_is_enough(tmp_path, monkeypatch):
    usage = type("U", (), {"free": checkpoint_guards.MIN_FREE})
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage)
    check_writable(tmp_path / "m.pth", overwrite=False)
    usage.free -= 1
    with pytest.raises(MnistError, match="only 16.0 MB free"):
        check_writable(tmp_path / "m.pth", overwrite=False)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="POSIX device")
def test_refusals_name_the_path(tmp_path):
    with pytest.raises(MnistError, match="^/dev/null is not a regular file"):
        check_writable("/dev/null", overwrite=True)
    taken = save_checkpoint(tmp_path / "m.pth", build_model("linear"), META)
    for refuse in (lambda: check_writable(taken, overwrite=False),
                   lambda: save_checkpoint(taken, build_model("linear"), META)):
        with pytest.raises(MnistError, match=f"^{taken} already exists"):
            refuse()
