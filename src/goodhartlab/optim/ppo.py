"""PPO with a clipped surrogate (Schulman et al. 2017, arXiv 1707.06347) on a discrete-action vector env.

Read top to bottom, after cleanrl's ``ppo.py`` (Huang et al. 2022, "The 37 implementation details of PPO"):
orthogonal init, GAE(λ), advantage normalization per minibatch, a linearly annealed learning rate, global
gradient-norm clipping, separate actor and critic MLPs. It needs a ``gymnasium.vector.VectorEnv`` with
same-step autoreset (a ``done`` observation is already the next episode's first), discrete actions and a
Box observation (flattened), and nothing else: no ``info``, no gold.

Loss per minibatch, with r = π(a|s) / π_old(a|s) and Â the normalized GAE advantage:
    L = mean[max(−Â·r, −Â·clip(r, 1 − ε, 1 + ε))] + c_v · ½ mean[(V(s) − R)²] − c_H · mean[H(π(·|s))]

Randomness: network init, action sampling and minibatch order all come from the ``rng`` given to
:meth:`PPO.learn`; torch's global generator is neither read nor changed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from goodhartlab.core.parts import Optimized


@dataclass(frozen=True)
class PPOConfig:
    """The knobs, as in cleanrl's ``Args`` (defaults sized for tiny grid levels on a CPU)."""

    iterations: int = 100  # policy updates; each collects num_steps steps from every env
    num_steps: int = 32  # rollout length per env and iteration
    lr: float = 1e-3  # Adam step size, annealed linearly to 0 when anneal_lr
    anneal_lr: bool = True
    gamma: float = 0.97  # discount: with a reward only at the goal, it rewards getting there soon
    gae_lambda: float = 0.95
    minibatches: int = 4
    epochs: int = 4
    clip: float = 0.2  # ε
    ent_coef: float = 0.01  # c_H
    vf_coef: float = 0.5  # c_v
    max_grad_norm: float = 0.5
    hidden: int = 64  # width of both hidden layers of the actor and of the critic
    snapshots: tuple[int, ...] = ()  # iterations after which a frozen copy of the policy is kept


def layer_init(layer: nn.Linear, std: float = 2**0.5) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, 0.0)
    return layer


class ActorCritic(nn.Module):
    """Two tanh MLPs over the flattened observation: action logits [B, A] and a value [B]."""

    def __init__(self, n_in: int, n_actions: int, hidden: int):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(n_in, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, 1), std=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(n_in, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, n_actions), std=0.01),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(x), self.critic(x).squeeze(-1)


def sample(logits: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """One action per row of ``logits`` [B, A] by inverse CDF on ``rng``'s uniforms: long [B]."""
    p = torch.softmax(logits, -1).numpy().astype(np.float64)
    cdf = np.cumsum(p, axis=1)
    u = rng.random((len(p), 1)) * cdf[:, -1:]
    return torch.from_numpy(np.minimum((cdf < u).sum(axis=1), p.shape[1] - 1))


class Policy:
    """A frozen copy of the actor: ``act(obs [B, ...], rng) -> actions [B]`` (sampled, or argmax if greedy)."""

    def __init__(self, net: ActorCritic):
        self.actor = copy.deepcopy(net.actor).eval()

    @torch.no_grad()
    def logits(self, obs: np.ndarray) -> torch.Tensor:
        return self.actor(torch.as_tensor(obs, dtype=torch.float32).reshape(len(obs), -1))

    def act(self, obs: np.ndarray, rng: np.random.Generator, greedy: bool = False) -> np.ndarray:
        z = self.logits(obs)
        return (z.argmax(-1) if greedy else sample(z, rng)).numpy()


@dataclass
class PPOResult(Optimized):
    """The final policy, one history row per iteration, and the snapshots asked for (iteration -> Policy)."""

    snapshots: dict[int, Policy] = field(default_factory=dict)


class PPO:
    """An :class:`goodhartlab.core.parts.EnvLearner`: ``learn(env, rng)`` trains from scratch on ``env``."""

    def __init__(self, config: PPOConfig = PPOConfig(), on_iteration: Callable[[int], None] | None = None):
        if config.iterations < 1 or config.num_steps < 1 or config.minibatches < 1 or config.epochs < 1:
            raise ValueError("PPOConfig: iterations, num_steps, minibatches and epochs must all be >= 1")
        self.config, self.on_iteration = config, on_iteration

    def learn(self, env, rng: np.random.Generator) -> PPOResult:
        cfg = self.config
        n_envs, steps = env.num_envs, cfg.num_steps
        n_in = int(np.prod(env.single_observation_space.shape))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**31 - 1)))
            net = ActorCritic(n_in, int(env.single_action_space.n), cfg.hidden)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=1e-5)

        obs = torch.zeros((steps, n_envs, n_in))
        actions = torch.zeros((steps, n_envs), dtype=torch.long)
        logprobs, rewards = torch.zeros((steps, n_envs)), torch.zeros((steps, n_envs))
        dones, values = torch.zeros((steps, n_envs)), torch.zeros((steps, n_envs))

        first, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        next_obs = torch.as_tensor(first, dtype=torch.float32).reshape(n_envs, -1)
        next_done = torch.zeros(n_envs)
        running = np.zeros(n_envs)  # return of each env's current episode, for the history
        history: list[dict[str, float]] = []
        snapshots: dict[int, Policy] = {}
        batch = n_envs * steps
        mb_size = max(1, batch // cfg.minibatches)

        for it in range(1, cfg.iterations + 1):
            if cfg.anneal_lr:
                opt.param_groups[0]["lr"] = (1.0 - (it - 1) / cfg.iterations) * cfg.lr
            finished: list[float] = []
            for t in range(steps):  # rollout
                obs[t], dones[t] = next_obs, next_done
                with torch.no_grad():
                    logits, value = net(next_obs)
                a = sample(logits, rng)
                actions[t], values[t] = a, value
                logprobs[t] = torch.log_softmax(logits, -1).gather(1, a[:, None]).squeeze(1)
                o, r, terminated, truncated, _ = env.step(a.numpy())
                done = np.logical_or(terminated, truncated)
                rewards[t] = torch.as_tensor(r, dtype=torch.float32)
                next_obs = torch.as_tensor(o, dtype=torch.float32).reshape(n_envs, -1)
                next_done = torch.as_tensor(done, dtype=torch.float32)
                running += r
                finished.extend(running[done].tolist())
                running[done] = 0.0

            with torch.no_grad():  # GAE(λ), bootstrapping from the value of the observation after the rollout
                next_value = net(next_obs)[1]
                advantages = torch.zeros_like(rewards)
                last = torch.zeros(n_envs)
                for t in reversed(range(steps)):
                    not_done = 1.0 - (next_done if t == steps - 1 else dones[t + 1])
                    after = next_value if t == steps - 1 else values[t + 1]
                    delta = rewards[t] + cfg.gamma * after * not_done - values[t]
                    advantages[t] = last = delta + cfg.gamma * cfg.gae_lambda * not_done * last
                returns = advantages + values

            b_obs, b_actions, b_logprobs = obs.reshape(batch, n_in), actions.reshape(-1), logprobs.reshape(-1)
            b_adv, b_returns = advantages.reshape(-1), returns.reshape(-1)
            for _ in range(cfg.epochs):
                order = torch.from_numpy(rng.permutation(batch))
                for start in range(0, batch, mb_size):
                    mb = order[start : start + mb_size]
                    logits, value = net(b_obs[mb])
                    logp_all = torch.log_softmax(logits, -1)
                    logp = logp_all.gather(1, b_actions[mb, None]).squeeze(1)
                    entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
                    log_ratio = logp - b_logprobs[mb]
                    ratio = log_ratio.exp()
                    adv = b_adv[mb]
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                    pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - cfg.clip, 1 + cfg.clip)).mean()
                    v_loss = 0.5 * ((value - b_returns[mb]) ** 2).mean()
                    loss = pg_loss - cfg.ent_coef * entropy + cfg.vf_coef * v_loss
                    opt.zero_grad()
                    loss.backward()
                    nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
                    opt.step()
            if not torch.isfinite(loss):
                raise FloatingPointError(f"PPO loss is {loss.item()} at iteration {it}")
            with torch.no_grad():
                approx_kl = ((ratio - 1) - log_ratio).mean().item()  # k3 estimator of KL(old ‖ new), last minibatch
            history.append(
                {
                    "iteration": it,
                    "episodes": len(finished),
                    "mean_return": float(np.mean(finished)) if finished else float("nan"),
                    "policy_loss": pg_loss.item(),
                    "value_loss": v_loss.item(),
                    "entropy": entropy.item(),
                    "approx_kl": approx_kl,
                }
            )
            if it in cfg.snapshots:
                snapshots[it] = Policy(net)
            if self.on_iteration is not None:
                self.on_iteration(it)
        return PPOResult(Policy(net), history, snapshots)
