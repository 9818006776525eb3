"""REINFORCE with a learned value baseline and an entropy bonus, over masked actions.

Williams 1992; the baseline and entropy terms as in Sutton & Barto 2018 §13.4
and Mnih et al. 2016. Written out here so every quantity is under our control.

Per batch of episodes, with G_t the discounted return from step t:
    loss = -mean_t[ log π(a_t|s_t) · (G_t - V(s_t)) ] + ½ mean_t[(G_t - V(s_t))²] - c · mean_t[H(π(·|s_t))]
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from goodhartlab.optim.masked import Policy, feature_space, obs_key


class PolicyNet(nn.Module):
    """MLP over flattened (one-hot) observation features → action logits [A] and a value []."""

    def __init__(self, n_in: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.logits = nn.Linear(hidden, n_actions)
        self.value = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)  # [B, hidden]
        logits = self.logits(h).masked_fill(~mask, -1e9)  # [B, A]
        return logits, self.value(h).squeeze(-1)  # [B, A], [B]


class Featurizer:
    """Observation → one-hot feature vector, cached by observation key."""

    def __init__(self, space: spaces.Dict):
        self.space = feature_space(space)
        self.size = spaces.flatdim(self.space)
        self.cache: dict[bytes, np.ndarray] = {}

    def __call__(self, obs: dict) -> np.ndarray:
        key = obs_key(obs)
        x = self.cache.get(key)
        if x is None:
            x = self.cache[key] = spaces.flatten(self.space, {k: obs[k] for k in self.space.spaces}).astype(np.float32)
        return x


class PGAgent:
    def __init__(self, env: gym.Env, hidden: int, generator: torch.Generator):
        self.features = Featurizer(env.observation_space)
        # Initialize from the given generator without touching (or depending on) torch's global state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            self.net = PolicyNet(self.features.size, env.action_space.n, hidden)
        self.generator = generator

    def snapshot(self) -> NumpyActor:
        return NumpyActor(self)

    def greedy(self) -> Policy:
        actor = self.snapshot()

        def act(obs: dict) -> int:
            return int(actor.logits(self.features(obs), obs["action_mask"]).argmax())

        return act


class NumpyActor:
    """The policy head evaluated in numpy on a frozen copy of the weights.

    Acting one observation at a time through torch costs ~10x more per step than
    these three small matrix products; gradients are still taken in torch.
    """

    def __init__(self, agent: PGAgent):
        body = agent.net.body
        self.w = [
            (layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy())
            for layer in (body[0], body[2], agent.net.logits)
        ]

    def logits(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (w1, b1), (w2, b2), (w3, b3) = self.w
        h = np.tanh(np.tanh(x @ w1 + b1) @ w2 + b2)
        return np.where(mask.astype(bool), h @ w3 + b3, -1e9)

    def sample(self, x: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        z = self.logits(x, mask)
        p = np.exp(z - z.max())
        return int(rng.choice(len(p), p=p / p.sum()))


def train(
    env: gym.Env,
    episodes: int,
    generator: torch.Generator,
    rng: np.random.Generator,
    entropy_coef: float = 0.01,
    gamma: float = 0.95,
    lr: float = 3e-3,
    batch_episodes: int = 16,
    hidden: int = 64,
    on_checkpoint: Callable[[int, PGAgent], None] | None = None,
    checkpoint_every: int = 0,
    env_seed: int = 0,
) -> PGAgent:
    agent = PGAgent(env, hidden, generator)
    opt = torch.optim.Adam(agent.net.parameters(), lr=lr)
    env.reset(seed=env_seed)
    done_episodes = 0
    while done_episodes < episodes:
        xs, masks, actions, returns = [], [], [], []
        actor = agent.snapshot()
        for _ in range(min(batch_episodes, episodes - done_episodes)):
            obs, _ = env.reset()
            rewards, done = [], False
            while not done:
                x, mask = agent.features(obs), obs["action_mask"].astype(bool)
                a = actor.sample(x, mask, rng)
                obs, r, terminated, truncated, _ = env.step(a)
                xs.append(x), masks.append(mask), actions.append(a), rewards.append(r)
                done = terminated or truncated
            g, ep_returns = 0.0, []
            for r in reversed(rewards):
                g = r + gamma * g
                ep_returns.append(g)
            returns.extend(reversed(ep_returns))
            done_episodes += 1
            if on_checkpoint is not None and checkpoint_every and done_episodes % checkpoint_every == 0:
                on_checkpoint(done_episodes, agent)
        x = torch.from_numpy(np.stack(xs))  # [N, F]
        m = torch.from_numpy(np.stack(masks))  # [N, A]
        a = torch.tensor(actions)  # [N]
        g = torch.tensor(returns, dtype=torch.float32)  # [N]
        logits, value = agent.net(x, m)
        logp = torch.log_softmax(logits, -1)
        probs = logp.exp()
        advantage = g - value.detach()
        entropy = -(probs * logp.masked_fill(~m, 0.0)).sum(-1)
        loss = (
            -(logp.gather(1, a[:, None]).squeeze(1) * advantage).mean()
            + 0.5 * ((g - value) ** 2).mean()
            - entropy_coef * entropy.mean()
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    return agent
