"""Figure 7: a picture of the ack-latency distributions of this ingest, the SDK floor and Bolt."""

from __future__ import annotations

from pathlib import Path

from bench.cold import ColdResults
from bench.report import Figure, Table, ms
from bench.stats import percentile
from bench.warm import WarmResults

COLORS = {"ingest": "#1b7837", "floor": "#4d4d4d", "bolt": "#c51b7d"}
NAMES = {"ingest": "this ingest", "floor": "AWS SDK floor", "bolt": "Bolt's Lambda adapter"}
QUANTILES = (10, 50, 90, 99)


def draw(path: Path, cold: ColdResults | None, warm: WarmResults | None) -> None:
    # The ``bench`` extra installs matplotlib; ``make lint`` type-checks without it (``.[dev]``).
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    from matplotlib.ticker import FuncFormatter  # type: ignore[import-not-found, unused-ignore]

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    # Minor ticks of a log axis: label only 2, 3 and 5 of each decade (all nine crowd each other).
    sparse = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:g}"[0] in "235" else "")

    panels = [p for p in (("cold", cold), ("warm", warm)) if p[1] is not None]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.6), squeeze=False)
    for axis, (kind, results) in zip(axes[0], panels, strict=True):
        for variant in ("floor", "ingest", "bolt"):
            if isinstance(results, ColdResults):
                values = sorted(results.values(variant))
                label = f"{NAMES[variant]}: fresh process, import + first ack"
            elif isinstance(results, WarmResults):
                values = sorted(results.samples[variant])
                label = NAMES[variant] + (": bare send_message" if variant == "floor" else ": warm handler")
            else:
                continue
            if not values:
                continue
            ys = [(i + 1) / len(values) for i in range(len(values))]
            axis.step(values, ys, where="post", color=COLORS[variant], linewidth=2, label=label)
            median = percentile(values, 50)
            axis.axvline(median, color=COLORS[variant], linestyle=":", linewidth=1)
        axis.set_ylim(0, 1.02)
        axis.grid(True, alpha=0.3)
        axis.set_ylabel("fraction of acks at most this long")
        if kind == "cold":
            axis.set_title("Cold start: fresh process → first ack (moto SQS)")
            axis.set_xlabel("ms (dotted: medians)")
        else:
            axis.set_xscale("log")
            axis.xaxis.set_major_formatter(plain)
            axis.xaxis.set_minor_formatter(sparse)
            axis.tick_params(axis="x", which="minor", labelsize=7)
            axis.set_title("Warm ack: one request, warm container")
            axis.set_xlabel("ms, log scale (dotted: medians)")
        axis.legend(loc="lower right", fontsize=8)
    fig.suptitle("slackbot-pipeline ingest vs the AWS SDK floor vs Bolt: ack latency (ECDF)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure(path: Path, cold: ColdResults | None, warm: WarmResults | None, written: bool) -> Figure:
    fig = Figure(
        7,
        "plot",
        "The picture: ack-latency distributions",
        "Empirical distribution functions of figure 1's cold starts and figure 2's warm acks.",
    )
    table = Table(["distribution", *[f"p{q}" for q in QUANTILES]])
    for kind, results in (("cold start", cold), ("warm ack", warm)):
        for variant in ("floor", "ingest", "bolt"):
            if isinstance(results, ColdResults):
                values = results.values(variant)
            elif isinstance(results, WarmResults):
                values = results.samples[variant]
            else:
                continue
            table.add(f"{kind}: {NAMES[variant]}", *[ms(percentile(values, q)) for q in QUANTILES])
    fig.tables.append(table)
    if written:
        fig.notes.append(f"![ack latency distributions]({path.name})")
    return fig
