"""models.plumbing: one seeded init, one checked optimizer step, one strided side length."""

import pytest
import torch
from torch import nn

from goodhartlab.models.plumbing import checked_step, seeded_init, strided_side


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(16, 3))


@pytest.mark.parametrize("biases", ["zero", "fan_in", "out_features"])
def test_seeded_init_is_a_function_of_the_generator_only(biases):
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    a, b = _net(), _net()
    seeded_init(a, torch.Generator().manual_seed(5), biases)
    torch.rand(3)  # global draws in between change nothing
    seeded_init(b, torch.Generator().manual_seed(5), biases)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert (a[0].bias == 0).all() == (biases == "zero")
    assert (a[1].weight == 1).all() and (a[1].bias == 0).all()  # BatchNorm untouched
    bound = 1 / 9**0.5
    assert a[0].weight.abs().max() <= bound
    torch.manual_seed(0)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_checked_step_refuses_a_non_finite_loss():
    net = nn.Linear(2, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w = net.weight.detach().clone()
    checked_step(opt, net(torch.ones(1, 2)).sum(), "loss", 0)
    assert not torch.equal(w, net.weight)
    w = net.weight.detach().clone()
    with pytest.raises(FloatingPointError, match="test loss became nan at step 3"):
        checked_step(opt, net(torch.ones(1, 2)).sum() * float("nan"), "test loss", 3)
    assert torch.equal(w, net.weight)


def test_strided_side_is_the_conv_output_side():
    assert strided_side(28, 2, 2) == 7 and strided_side(8, 1, 2) == 4 and strided_side(7, 2) == 4
    for size in (7, 8, 28, 29):
        x = torch.zeros(1, 1, size, size)
        conv = nn.Sequential(nn.Conv2d(1, 1, 5, stride=2, padding=2), nn.Conv2d(1, 1, 3, stride=2, padding=1))
        assert conv(x).shape[-1] == strided_side(size, 2, 2)
