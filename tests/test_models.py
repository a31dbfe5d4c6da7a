import pytest
import torch

from mnist_digits.bench import references
from mnist_digits.errors import MnistError
from mnist_digits.lesson import conv_block, count_parameters
from mnist_digits.recipes import MODELS, build_model


@pytest.mark.parametrize("name", list(references.MODELS))
def test_output_is_ten_logits_per_image(name):
    model = build_model(name, references.MODELS).eval()
    assert model(torch.randn(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize("name, expected", [("linear", 7_850), ("mlp", 109_386), ("cnn", 25_322),
                                             ("best", 151_690),
                                             ("pytorch-examples", 1_199_882)])
def test_parameter_counts(name, expected):
    assert count_parameters(build_model(name, references.MODELS)) == expected


def test_the_command_line_builds_the_notebooks_models_and_only_those():
    assert MODELS is references.LESSON_MODELS and "pytorch-examples" not in MODELS


def test_starter_cnn_has_two_blocks_of_32_filters():
    convs = [m for m in build_model("cnn").modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(32, (3, 3))] * 2


def test_best_cnn_never_convolves_at_full_resolution():
    shapes = []
    model = build_model("best").eval()
    for conv in (m for m in model.modules() if isinstance(m, torch.nn.Conv2d)):
        conv.register_forward_hook(lambda m, inputs, out: shapes.append(inputs[0].shape[-1]))
    model(torch.randn(2, 1, 28, 28))
    assert shapes == [14, 14, 14, 7]


def test_pooling_first_computes_the_same_block_with_positive_scale():
    torch.manual_seed(0)
    late, early = conv_block(3, 8).eval(), conv_block(3, 8, pool_first=True).eval()
    late[1].running_mean.uniform_(-1, 1)
    late[1].weight.data.uniform_(0.5, 2)  # a positive scale keeps max-pooling interchangeable
    early[0].load_state_dict(late[0].state_dict())  # conv
    early[2].load_state_dict(late[1].state_dict())  # batch norm, now after the pooling
    x = torch.randn(4, 3, 10, 10)
    assert late(x).shape == (4, 8, 5, 5)
    assert torch.allclose(late(x), early(x), atol=1e-6)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(MnistError, match="unknown model 'resnet'.*mlp"):
        build_model("resnet")
