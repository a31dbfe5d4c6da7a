import json

import pytest
import torch.nn as nn

from mnist_digits.checkpoints import save_checkpoint
from mnist_digits.cli import main
from mnist_digits.lesson import conv_block
from mnist_digits.recipes import build_model


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "at least 1"),
    (["train", "--epochs", "many"], "whole number"),
    (["train", "--model", "resnet"], "invalid choice: 'resnet'"),
    (["train", "--seed", "-3"], "seed from 0"),
    (["evaluate", "--device", "tpu"], "invalid choice"),
    (["train", "--precision", "half"], "invalid choice: 'half'"),
    (["fly"], "invalid choice"),
    ([], "required"),
])
def test_bad_options_get_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_weights_is_one_clear_line(tmp_path, capsys):
    assert main(["evaluate", "--weights", str(tmp_path / "none.pth")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No weights file") and "Traceback" not in err


def test_weights_for_another_architecture(tmp_path, capsys):
    path = tmp_path / "m.pth"
    save_checkpoint(path, build_model("mlp"), {"model": "cnn"})
    assert main(["evaluate", "--weights", str(path)]) == 2
    assert "do not fit that architecture" in capsys.readouterr().err


def test_a_best_cnn_with_its_layers_in_other_places_is_refused_in_one_line(tmp_path, capsys):
    """The research network with the third convolution moved to 7x7 has the best CNN's tensors
    in other places (research/cheaper-recipes): loaded as 'best' they would give nonsense."""
    model = build_model("best")
    model.features = nn.Sequential(nn.PixelUnshuffle(2), conv_block(4, 64, pool=False),
                                   conv_block(64, 64, pool_first=True),
                                   conv_block(64, 64, pool=False),
                                   conv_block(64, 128, pool_first=True))
    path = save_checkpoint(tmp_path / "moved.pth", model, {"model": "best"})
    assert main(["evaluate", "--weights", str(path)]) == 2
    err = capsys.readouterr().err
    assert "do not fit that architecture (Missing key(s)" in err and "earlier version" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_checkpoint_without_normalisation(tmp_path, capsys):
    path = save_checkpoint(tmp_path / "m.pth", build_model("mlp"), {"model": "mlp"})
    assert main(["evaluate", "--weights", str(path)]) == 2
    assert "no usable normalisation" in capsys.readouterr().err


def test_train_refuses_an_existing_out_before_training(tmp_path, capsys):
    out = tmp_path / "taken.pth"
    out.write_bytes(b"precious")
    assert main(["train", "--model", "mlp", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"precious"


def test_missing_data_folder_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MNIST_LOCAL", str(tmp_path / "nowhere"))
    path = save_checkpoint(tmp_path / "m.pth", build_model("mlp"),
                           {"model": "mlp", "normalization": {"mean": 0.1, "std": 0.3}})
    assert main(["evaluate", "--weights", str(path), "--data", str(tmp_path / "d")]) == 2
    assert "MNIST_LOCAL=" in capsys.readouterr().err


def test_cuda_asked_for_without_a_gpu(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert main(["evaluate", "--weights", str(tmp_path / "m.pth"), "--device", "cuda"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_json_is_the_last_line(capsys):
    import mnist_digits.cli as cli
    m = {"accuracy": 99.5, "loss": 0.02, "correct": 9950, "total": 10000, "per_class": [99.5] * 10}
    cli.report("best", m, "w.pth", as_json=True)
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["model"] == "best" and last["accuracy"] == 99.5


def test_every_command_line_in_the_readme_parses():
    """The README's commands exist as typed: same subcommands, same options."""
    import shlex

    from conftest import ROOT

    from mnist_digits.cli import parser
    lines = [ln.split("  #")[0].strip() for ln in (ROOT / "README.md").read_text().splitlines()
             if ln.startswith("python -m mnist_digits ")]
    assert len(lines) >= 6
    for line in lines:
        args = parser().parse_args(shlex.split(line)[3:])
        assert callable(args.run), line



@pytest.mark.parametrize("reference", ["pytorch-examples", "reference-cnn", "best-1-epoch"])
def test_train_offers_the_notebooks_recipes_not_the_benchmarks(reference, capsys):
    from mnist_digits import lesson
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--model", reference])
    assert exit_.value.code == 2
    assert "{" + ",".join(lesson.RECIPES) + "}" in capsys.readouterr().err


def test_the_default_model_is_one_name_everywhere():
    from mnist_digits.cli import parser
    from mnist_digits.lesson import Config
    train = parser().parse_args(["train"])
    assert train.model == Config.model  # train's default is Config's, not another name
    assert train.seed == Config.seed and train.data == Config.data_dir
