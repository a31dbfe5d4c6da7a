import pytest
import torch

from mnist_digits.errors import MnistError
from mnist_digits.models import MODELS, build_model, count_parameters


@pytest.mark.parametrize("name", list(MODELS))
def test_output_is_ten_logits_per_image(name):
    model = build_model(name).eval()
    assert model(torch.randn(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize("name, expected", [("mlp", 109_386), ("cnn", 25_322)])
def test_parameter_counts(name, expected):
    assert count_parameters(build_model(name)) == expected


def test_seed_cnn_has_two_blocks_of_32_filters():
    convs = [m for m in build_model("cnn").modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(32, (3, 3))] * 2


def test_unknown_model_is_a_clear_error():
    with pytest.raises(MnistError, match="unknown model 'resnet'.*mlp"):
        build_model("resnet")
