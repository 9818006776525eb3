"""DPO and IPO: the loss on a hand-computed batch, the first step at π_θ = π_ref, and learning the preference."""

import math

import pytest
import torch

from goodhartlab.optim.dpo import DPOConfig, pair_batch, preference_loss, train_dpo


def test_dpo_and_ipo_losses_match_hand_computed_values():
    pc, pr = torch.tensor([-1.0, -2.0]), torch.tensor([-3.0, -1.0])
    rc, rr = torch.tensor([-1.5, -2.0]), torch.tensor([-2.5, -1.5])
    # h = (pc − rc) − (pr − rr) = [0.5 + 0.5, 0 − 0.5] = [1, −0.5]
    loss, h = preference_loss(pc, pr, rc, rr, beta=0.5, kind="dpo")
    assert h.tolist() == [1.0, -0.5]
    # −log σ(0.5) = log(1 + e^−0.5) = 0.474077; −log σ(−0.25) = log(1 + e^0.25) = 0.825939
    assert float(loss) == pytest.approx((math.log(1 + math.exp(-0.5)) + math.log(1 + math.exp(0.25))) / 2)
    assert float(loss) == pytest.approx(0.650008, abs=1e-6)
    # IPO: (h − 1/(2β))² with 1/(2β) = 1: [0, 2.25]
    loss, _ = preference_loss(pc, pr, rc, rr, beta=0.5, kind="ipo")
    assert float(loss) == pytest.approx(1.125)
    with pytest.raises(ValueError, match="kind"):
        preference_loss(pc, pr, rc, rr, beta=0.5, kind="kto")


def tiny_lm(vocab=12, seed=0):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=vocab,
        n_layer=1,
        n_head=2,
        n_embd=16,
        n_positions=32,
        resid_pdrop=0,
        embd_pdrop=0,
        attn_pdrop=0,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    return GPT2LMHeadModel(cfg).eval()


def test_pair_batch_layout():
    seq, att, resp = pair_batch([[1, 5], [1, 6, 7]], [[8], [9, 10]], eos_id=2, pad_id=0)
    assert seq.tolist() == [[0, 1, 5, 8, 2, 0], [1, 6, 7, 9, 10, 2]]
    assert resp.tolist() == [[0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1]] and att.tolist()[0] == [0, 1, 1, 1, 1, 0]


@pytest.mark.parametrize("kind", ["dpo", "ipo"])
def test_train_dpo_starts_at_log2_and_learns_the_preference(kind):
    ref = tiny_lm()
    import copy

    policy = copy.deepcopy(ref).requires_grad_(True)
    prompts = [[1, 3], [1, 4]] * 8
    chosen = [[5, 6], [7]] * 8
    rejected = [[8], [9, 10]] * 8
    seen = []
    hist = train_dpo(
        policy,
        ref,
        prompts,
        chosen,
        rejected,
        DPOConfig(beta=0.5, kind=kind, epochs=12, batch_size=8, lr=3e-3, checkpoint_every=4),
        torch.Generator().manual_seed(0),
        eos_id=2,
        pad_id=0,
        on_checkpoint=lambda step, epoch, pol: seen.append((step, epoch)),
    )
    first = hist[0]["loss"]
    assert first == pytest.approx(math.log(2) if kind == "dpo" else 1.0, abs=1e-5)  # π_θ = π_ref: h = 0
    assert hist[-1]["loss"] < first and hist[-1]["pair_accuracy"] == 1.0 and hist[-1]["margin"] > 0
    assert seen[0] == (0, 0.0) and seen[-1][0] == len(hist) and seen[-1][1] == pytest.approx(12.0)
    with torch.no_grad():  # π_ref is not trained
        assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), tiny_lm().state_dict().values()))
