"""Figures, tables and findings of the ``preference-shift`` experiment, from stored results only.

Every interval resamples simulated users (independent draws of initial preferences and clicks); agents meet
the same users, so comparisons between agents are paired by user (``stats.paired``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import DegenerateDataWarning

from goodhartlab.analysis import stats
from goodhartlab.core.records import Estimate, Figure, Finding, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, figure

ENGAGEMENT, MYOPIC, PATH_SPECIFIC = "engagement", "myopic", "path-specific"
PANELS = (
    ("proxy", "clicks per step (proxy)"),
    ("rater", "shifted user's satisfaction (rater)"),
    ("gold", "satisfaction under natural prefs (gold)"),
    ("shift", "induced shift TV(u_T, ū_T) (gold)"),
)
ANCHOR = (
    "Farquhar, Carey & Everitt 2022 (arXiv 2204.10018); Carroll et al. 2022 (arXiv 2204.11966); "
    "Evans & Kasirzadeh 2021 (arXiv 2109.04083)"
)


def _by_user(episodes: pd.DataFrame, axis: str, agent: str, column: str, pressure: float | None = None) -> pd.Series:
    """One value per user for (axis, agent) at ``pressure`` (default: the axis's main setting, see ``main``)."""
    rows = episodes[(episodes.axis == axis) & (episodes.agent == agent)]
    if pressure is not None:
        rows = rows[np.isclose(rows.pressure, pressure)]
    return rows.set_index("user")[column].sort_index()


def _pair(episodes: pd.DataFrame, a: str, b: str, column: str, main: dict) -> Estimate:
    """Paired mean over users of agent a − agent b at the main setting (the eta axis at the main η)."""
    x = _by_user(episodes, "eta", a, column, main["eta"])
    y = _by_user(episodes, "eta", b, column, main["eta"])
    x, y = x.align(y, join="inner")
    # Rounded so that float noise in equal quantities (e.g. two shifts to the same vertex) is an exact 0.
    return stats.paired(np.round(x.to_numpy(), 12), np.round(y.to_numpy(), 12), "user")


def _parts_text(parts: dict[str, tuple[Estimate, str, str]]) -> str:
    return "; ".join(f"{name} {e} ({v})" for name, (e, _, v) in parts.items())


def maximizer_finding(episodes: pd.DataFrame, main: dict) -> Finding:
    """Claim: against the myopic agent the full-horizon engagement maximizer gains clicks and rater
    satisfaction, loses gold and induces more shift (paired over users, main setting)."""
    claims = {"proxy": ">", "rater": ">", "gold": "<", "shift": ">"}
    parts = {}
    for col, direction in claims.items():
        e = _pair(episodes, ENGAGEMENT, MYOPIC, col, main)
        parts[col] = (e, direction, stats.verdict(e, direction))
    v = stats.all_of(*(p[2] for p in parts.values()))
    lead = {
        "holds": "Holds: with planning to the horizon the engagement maximizer wins on proxy and rater, loses on "
        "gold and induces more shift than the myopic agent.",
        "fails": "Fails: at least one part goes the other way or is zero.",
        "inconclusive": "Inconclusive: no part goes the other way, but not every part is resolved.",
    }[v]
    return Finding(
        title="Engagement maximizer vs myopic",
        claim=(
            "engagement maximizer − myopic (paired by user, main setting): proxy > 0, rater > 0, gold < 0, shift > 0"
        ),
        verdict=v,
        text=f"{lead} Differences engagement − myopic: {_parts_text(parts)}.",
        evidence={f"{c}_difference": p[0] for c, p in parts.items()},
        anchor=ANCHOR,
    )


def rater_finding(episodes: pd.DataFrame, main: dict) -> Finding:
    """Claim: the rater (the shifted user's satisfaction) overstates gold for the engagement maximizer:
    rater − gold > 0 within user. The myopic agent's gap is given beside it."""
    rater = _by_user(episodes, "eta", ENGAGEMENT, "rater", main["eta"])
    gold = _by_user(episodes, "eta", ENGAGEMENT, "gold", main["eta"])
    e = stats.paired(np.round(rater.to_numpy(), 12), np.round(gold.to_numpy(), 12), "user")
    extra = {}
    if (episodes.agent == MYOPIC).any():
        r, g = (_by_user(episodes, "eta", MYOPIC, c, main["eta"]) for c in ("rater", "gold"))
        extra["myopic_gap"] = stats.paired(np.round(r.to_numpy(), 12), np.round(g.to_numpy(), 12), "user")
    beside = f" The myopic agent's gap: {extra['myopic_gap']}." if extra else ""
    return stats.claim_finding(
        "The rater endorses the shift",
        "engagement maximizer: rater − gold > 0 (paired by user, main setting)",
        e,
        direction=">",
        key="rater_minus_gold",
        extra=extra,
        anchor=ANCHOR,
        holds="Holds: the shifted user rates the engagement maximizer's recommendations above what the natural "
        "preferences give them: rater − gold {est}." + beside,
        fails="Fails: the shifted user does not rate them above the natural preferences: rater − gold {est}." + beside,
        inconclusive="Inconclusive: rater − gold {est} includes 0." + beside,
    )


def steering_finding(episodes: pd.DataFrame, main: dict) -> Finding:
    """Claim: the engagement maximizer moves users further toward the high-ceiling topic than the myopic agent:
    engagement − myopic of u_T − ū_T on that topic > 0 (paired by user). The path-specific agent's is beside."""
    e = _pair(episodes, ENGAGEMENT, MYOPIC, "pull_to_clickbait", main)
    extra = {}
    if (episodes.agent == PATH_SPECIFIC).any():
        extra["path_specific_minus_engagement"] = _pair(episodes, PATH_SPECIFIC, ENGAGEMENT, "pull_to_clickbait", main)
    beside = f" Path-specific − engagement: {extra['path_specific_minus_engagement']}." if extra else ""
    return stats.claim_finding(
        "Steering toward the clickbait topic",
        "engagement − myopic pull toward the high-ceiling topic > 0 (paired by user)",
        e,
        direction=">",
        key="pull_difference",
        extra=extra,
        anchor=ANCHOR,
        holds="Holds: the engagement maximizer moves users further toward the topic with the higher click ceiling "
        "than the myopic agent (u_T − ū_T on it): difference {est}." + beside,
        fails="Fails: it does not move users further toward that topic than the myopic agent: difference {est}."
        + beside,
        inconclusive="Inconclusive: the difference in pull toward that topic includes 0: {est}." + beside,
    )


def _versus(title: str, claim: str, e: Estimate, direction: str, subject: str, what: str, key: str) -> Finding:
    better, worse = ("lower", "higher") if direction == "<" else ("higher", "lower")
    return stats.claim_finding(
        title,
        claim,
        e,
        direction=direction,
        key=key,
        anchor=ANCHOR,
        holds=f"Holds: {subject}'s {what} is {better} than the engagement maximizer's: difference {{est}}.",
        fails=f"Fails: {subject}'s {what} is not {better} (it is {worse} or equal): difference {{est}}.",
        inconclusive=f"Inconclusive: the interval of the {what} difference includes 0: {{est}}.",
    )


def path_specific_findings(episodes: pd.DataFrame, main: dict) -> list[Finding]:
    """Claims: the path-specific agent induces less shift and has more gold than the engagement maximizer."""
    shift = _pair(episodes, PATH_SPECIFIC, ENGAGEMENT, "shift", main)
    gold = _pair(episodes, PATH_SPECIFIC, ENGAGEMENT, "gold", main)
    return [
        _versus(
            "Path-specific agent: shift",
            "path-specific − engagement shift < 0 (paired by user)",
            shift,
            "<",
            "the path-specific agent",
            "induced shift",
            "shift_difference",
        ),
        _versus(
            "Path-specific agent: gold",
            "path-specific − engagement gold > 0 (paired by user)",
            gold,
            ">",
            "the path-specific agent",
            "gold",
            "gold_difference",
        ),
    ]


def penalty_finding(episodes: pd.DataFrame, main: dict) -> Finding | None:
    """Claim: the Carroll-style penalty at its largest λ induces less shift than the engagement maximizer."""
    names = sorted(a for a in episodes.agent.unique() if a.startswith("penalty"))
    if not names:
        return None
    strongest = max(names, key=lambda a: float(episodes[episodes.agent == a].lam.iloc[0]))
    e = _pair(episodes, strongest, ENGAGEMENT, "shift", main)
    clicks = _pair(episodes, strongest, ENGAGEMENT, "proxy", main)
    gold = _pair(episodes, strongest, ENGAGEMENT, "gold", main)
    f = _versus(
        f"Shift penalty ({strongest})",
        f"{strongest} − engagement shift < 0 (paired by user)",
        e,
        "<",
        f"the {strongest} agent",
        "induced shift",
        "shift_difference",
    )
    return Finding(
        f.title,
        f"{f.text} Its clicks differ by {clicks}; its gold by {gold}.",
        f.claim,
        f.verdict,
        {**f.evidence, "proxy_difference": clicks, "gold_difference": gold},
        anchor=f.anchor,
    )


def pressure_finding(episodes: pd.DataFrame, axis: str) -> Finding | None:
    """Claim: the maximizer's gold loss against the myopic agent is larger at the axis's largest value than at
    its smallest: [gold_eng − gold_myo](max) − [gold_eng − gold_myo](min) < 0, paired by user."""
    values = sorted(episodes[episodes.axis == axis].pressure.unique())
    if len(values) < 2:
        return None
    lo, hi = values[0], values[-1]

    def gap(p):
        return _by_user(episodes, axis, ENGAGEMENT, "gold", p) - _by_user(episodes, axis, MYOPIC, "gold", p)

    a, b = gap(hi).align(gap(lo), join="inner")
    e = stats.paired(a.to_numpy(), b.to_numpy(), "user")
    name = {"eta": "η", "horizon": "horizon"}.get(axis, axis)
    return stats.claim_finding(
        f"Pressure ({name})",
        f"engagement maximizer − myopic gold falls from {name} = {lo:g} to {hi:g} (change < 0, paired by user)",
        e,
        direction="<",
        key="gap_change",
        anchor=ANCHOR,
        holds=f"Holds: the engagement maximizer's gold relative to the myopic agent falls from {name} = {lo:g} to "
        f"{hi:g}: change {{est}}.",
        fails=f"Fails: its gold relative to the myopic agent does not fall from {name} = {lo:g} to {hi:g}: "
        f"change {{est}}.",
        inconclusive=f"Inconclusive: the change from {name} = {lo:g} to {hi:g} includes 0: {{est}}.",
    )


def findings(episodes: pd.DataFrame, main: dict) -> list[Finding]:
    out = [
        maximizer_finding(episodes, main),
        rater_finding(episodes, main),
        steering_finding(episodes, main),
        *path_specific_findings(episodes, main),
        penalty_finding(episodes, main),
        pressure_finding(episodes, "eta"),
        pressure_finding(episodes, "horizon"),
    ]
    return [f for f in out if f is not None]


def _pressure_figure(episodes: pd.DataFrame) -> Figure:
    axes_names = [a for a in ("depth", "eta", "horizon") if (episodes.axis == a).any()]
    fig, axes = figure(len(PANELS), len(axes_names), width=3.6, height=2.6)
    agents = list(dict.fromkeys(episodes.agent))
    fixed = {
        MYOPIC: "#7f7f7f",
        ENGAGEMENT: CHANNEL_COLORS["proxy"],
        PATH_SPECIFIC: CHANNEL_COLORS["gold"],
        "uniform": "black",
    }
    others = iter(["#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#d62728"] * 4)
    colors = {a: fixed.get(a) or next(others) for a in agents}
    for j, axis in enumerate(axes_names):
        sub = episodes[episodes.axis == axis]
        for i, (col, label) in enumerate(PANELS):
            ax = axes[i, j]
            for agent, rows in sub.groupby("agent", sort=False):
                xs = sorted(rows.pressure.unique())
                ests = [stats.mean(rows[np.isclose(rows.pressure, x)][col], "user") for x in xs]
                mean = [e.estimate for e in ests]
                low = [e.low if e.has_interval else e.estimate for e in ests]
                high = [e.high if e.has_interval else e.estimate for e in ests]
                (line,) = ax.plot(
                    xs,
                    mean,
                    marker="o",
                    markersize=3,
                    color=colors.get(agent),
                    label=agent,
                    linestyle="--" if agent.startswith("penalty") else ":" if agent == "uniform" else "-",
                )
                ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
            ax.set_xlabel({"depth": "planning depth", "eta": "pull η", "horizon": "horizon"}[axis], fontsize=8)
            if j == 0:
                ax.set_ylabel(label, fontsize=7)
            ax.tick_params(labelsize=7)
    axes[0, -1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return Figure(
        "pressure",
        "Proxy (clicks), rater (the shifted user's own satisfaction) and gold (satisfaction "
        "under "
        "the natural preferences; the induced shift) per agent against the three pressures: the engagement "
        "maximizer's planning depth (1 = myopic), the pull η and the horizon. Bands: 95% Student t over "
        "users (BCa from 20 users).",
        fig,
    )


def _ternary(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Barycentric (u0, u1, u2) -> the plane: corners at (0, 0), (1, 0), (½, √3/2).
    return u[:, 1] + 0.5 * u[:, 2], (np.sqrt(3) / 2) * u[:, 2]


def _trajectory_figure(traj: pd.DataFrame, clickbait: int) -> Figure | None:
    if traj is None or traj.empty:
        return None
    cols = sorted(c for c in traj.columns if c.startswith("u") and c[1:].isdigit())
    users = sorted(traj.user.unique())
    fig, axes = figure(1, len(users), width=3.4, height=3.2)
    # Agents that lock a user onto the same topic draw the same line: widths and dashes keep each visible.
    styles = {
        "natural": {"color": "black", "linestyle": "--"},
        MYOPIC: {"color": "#7f7f7f", "linewidth": 4, "alpha": 0.6},
        ENGAGEMENT: {"color": CHANNEL_COLORS["proxy"], "linewidth": 2.5},
        PATH_SPECIFIC: {"color": CHANNEL_COLORS["gold"], "linestyle": ":", "linewidth": 1.5},
    }
    for ax, user in zip(axes[0], users):
        for agent, rows in traj[traj.user == user].groupby("agent", sort=False):
            u = rows.sort_values("t")[cols].to_numpy()
            style = {"linewidth": 1, **styles.get(agent, {"color": "#9467bd"})}
            if len(cols) == 3:
                x, y = _ternary(u)
            else:
                x, y = np.arange(len(u)), u[:, clickbait]
            ax.plot(x, y, marker=".", markersize=3, label=agent, **style)
            ax.plot(x[:1], y[:1], "o", color="black", markersize=4)
        if len(cols) == 3:
            ax.plot([0, 1, 0.5, 0], [0, 0, np.sqrt(3) / 2, 0], color="grey", linewidth=0.8)
            for c, (x, y) in enumerate([(0, 0), (1, 0), (0.5, np.sqrt(3) / 2)]):
                ax.text(
                    x,
                    y + (0.03 if c == 2 else -0.06),
                    f"topic {c}" + (" (clickbait)" if c == clickbait else ""),
                    fontsize=7,
                    ha="center",
                )
            ax.set_aspect("equal")
            ax.axis("off")
        else:
            ax.set(xlabel="step", ylabel=f"u[{clickbait}] (clickbait topic)")
        ax.set_title(f"user {user}", fontsize=8, pad=16)
    axes[0, -1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return Figure(
        "trajectories",
        "Preference trajectories u_0..u_T of a few users under each agent (main setting), "
        "on the simplex of the topics (black dot: u_0); dashed: the natural shift ū_t under a uniform "
        "recommender.",
        fig,
    )


def _summary_table(episodes: pd.DataFrame, main: dict) -> pd.DataFrame:
    sub = episodes[(episodes.axis == "eta") & np.isclose(episodes.pressure, main["eta"])]
    rows = []
    for agent, g in sub.groupby("agent", sort=False):
        row = {"agent": agent}
        for col in ("proxy", "expected_clicks", "rater", "gold", "shift", "clickbait_share", "pull_to_clickbait"):
            row[col] = str(stats.mean(g[col], "user"))
        rows.append(row)
    return pd.DataFrame(rows)


def report(results) -> ReportContent:
    # stats.mean falls back from BCa to a percentile bootstrap on near-constant columns (e.g. every lock-in
    # policy ends at the same shift); scipy warns on each such column, which says nothing to a reader here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DegenerateDataWarning)
        return _report(results)


def _report(results) -> ReportContent:
    cfg, t = results.config, results.tables
    episodes = t["episodes"]
    main = {"eta": cfg.eta, "horizon": cfg.horizon}
    clickbait = int(results.artifacts.get("users", {}).get("clickbait_topic", int(np.argmax(cfg.bias))))
    figures = [
        f for f in (_pressure_figure(episodes), _trajectory_figure(t.get("trajectories"), clickbait)) if f is not None
    ]
    tables = [
        Table(
            f"Agents at the main setting (η = {cfg.eta:g}, horizon {cfg.horizon})",
            _summary_table(episodes, main),
            "Means over users with 95% intervals (method and n in each cell). clickbait_share: share of "
            "recommendations of the topic with the highest click bias; pull_to_clickbait: u_T − ū_T on "
            "that topic.",
        )
    ]
    found = findings(episodes, main)
    n = {k: sum(f.verdict == k for f in found) for k in ("holds", "fails", "inconclusive")}
    users = int(episodes.user.nunique())
    return ReportContent(
        title="Preference shift: a recommender that changes what its user wants",
        summary=(
            f"Recommenders against {users} simulated users whose preferences move toward what they are shown "
            f"(η = {cfg.eta:g}, {cfg.horizon} recommendations): of {len(found)} claims, {n['holds']} hold, "
            f"{n['fails']} fail and {n['inconclusive']} are inconclusive. Engagement maximizer vs myopic: "
            f"{found[0].verdict}."
        ),
        setup=(
            "Preferences u_t over topics move toward what is shown (u' = (u + η·e_a)/(1 + η)); the user clicks "
            "with probability σ(α·u[a] + b_a), and one topic has a higher click ceiling. Proxy: clicks. Rater: "
            "the shifted user's own satisfaction u_t[a_t]. Gold: satisfaction under the natural preferences ū_t "
            "(the mean path under a uniform recommender) and the induced shift TV(u_T, ū_T). Agents plan by exact "
            "backward induction on a grid: myopic, an engagement maximizer of growing depth, the path-specific "
            "agent (clicks scored under ū_t: its influence on u is cut out of its objective) and a penalty "
            "λ·TV(u, ū) per step; the uniform recommender that defines the natural shift is shown for reference. "
            "Every agent meets the same users and click draws; intervals resample users."
        ),
        findings=found,
        figures=figures,
        tables=tables,
        headline="pressure",
    )
