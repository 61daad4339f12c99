"""Plots of a run and of a comparison (matplotlib, PNG and SVG).

matplotlib is only needed here: it is imported when a plot is drawn, so
that everything else (and its unit tests) runs without it. `tox -e bench`
installs it.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vm.bench.spawn import stats
from vm.bench.spawn.data import RunResult
from vm.bench.spawn.points import METHODS, Sweep

FORMATS = ("png", "svg")

# One figure per question the benchmark answers; each is one or more sweeps side by side.
RUN_FIGURES = (
    ("time_vs_rss", ("rss",)),
    ("time_vs_fds", ("fds", "fds-inherit")),
    ("time_vs_threads", ("threads",)),
    ("time_vs_actions", ("actions",)),
    ("time_vs_argv", ("argv",)),
)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as e:
        raise RuntimeError("plots need matplotlib: run through `tox -e bench`, "
                           "or pip install matplotlib") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, out_dir: Path, name: str) -> list[Path]:
    paths = []
    for fmt in FORMATS:
        path = out_dir / f"{name}.{fmt}"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths


def _color(method: str) -> str:
    """The same colour for a method in every figure."""
    return f"C{METHODS.index(method)}" if method in METHODS else "black"


def _xs(sweep: Sweep) -> tuple[list[int], list[str]]:
    """Evenly spaced positions, labelled with the sweep's values (0, 64,
    512 MiB would crowd a linear axis and 0 has no place on a log one)."""
    labels = [str(p.to_json()[sweep.parameter]) for p in sweep.points]
    return list(range(len(labels))), labels


def _draw_sweep(ax: Any, run: RunResult, sweep: Sweep, methods: Sequence[str]) -> None:
    positions, labels = _xs(sweep)
    for i, name in enumerate(methods):
        xs, ys, lo, hi = [], [], [], []
        for x, p in zip(positions, sweep.points, strict=True):
            result = run.point(p)
            s = None if result is None else result.method(name).summary()
            if s is None:
                continue
            ci = s.ci or stats.Interval(s.median, s.median)
            # Methods side by side around each position, so intervals do not hide.
            xs.append(x + (i - (len(methods) - 1) / 2) * 0.06)
            ys.append(s.median / 1000)
            lo.append((s.median - ci.low) / 1000)
            hi.append((ci.high - s.median) / 1000)
        if xs:
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", markersize=4, capsize=3,
                        label=name, color=_color(name))
    ax.set_xticks(positions, labels)
    ax.set_xlabel(sweep.label)
    ax.set_ylabel("time per start (us), median and 95% CI")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)


def _subtitle(run: RunResult) -> str:
    env = run.environment
    return (f"{env.get('series', '-')} | {env.get('accelerator', '?')} | "
            f"{env.get('guest_cpus', '?')} CPUs")


def _not_measured(run: RunResult, sweeps: Sequence[Sweep], methods: Sequence[str]) -> str:
    """Methods with no sample in these sweeps, and why (ENOSYS, a failure)."""
    notes = []
    for name in methods:
        results = [run.point(p) for s in sweeps for p in s.points]
        states = {f"{m.status}" + (f": {m.detail}" if m.detail else "")
                  for r in results if r is not None
                  for m in [r.method(name)] if m.summary() is None}
        if len(states) and not any(r is not None and r.method(name).summary()
                                   for r in results):
            notes.append(f"{name} ({'; '.join(sorted(states))})")
    return "not measured: " + ", ".join(notes) if notes else ""


def plot_run(run: RunResult, out_dir: Path) -> list[Path]:
    """One figure per sweep group; returns the files written."""
    plt = _pyplot()
    sweeps = {s.name: s for s in run.sweeps}
    methods = run.methods()
    written: list[Path] = []
    for name, group in RUN_FIGURES:
        chosen = [sweeps[g] for g in group if g in sweeps]
        if not chosen:
            continue
        fig, axes = plt.subplots(1, len(chosen), figsize=(6.5 * len(chosen), 4.8),
                                 squeeze=False, sharey=True)
        for ax, sweep in zip(axes[0], chosen, strict=True):
            _draw_sweep(ax, run, sweep, methods)
        axes[0][0].legend(fontsize="small")
        fig.suptitle(f"{name.replace('_', ' ')}: {_subtitle(run)}")
        note = _not_measured(run, chosen, methods)
        if note:
            fig.text(0.01, -0.02, note, fontsize="small", ha="left", va="top")
        written += _save(fig, out_dir, name)
        plt.close(fig)
    return written


def plot_comparison(rows: Sequence[Any], sweeps: Sequence[Sweep], threshold: float,
                    title: str, out_dir: Path, name: str = "compare") -> list[Path]:
    """Ratio B/A per method along each sweep, with intervals and the
    slowdown threshold. rows: compare.Row (point, method, ratio)."""
    plt = _pyplot()
    cols = max(1, min(3, len(sweeps)))
    nrows = max(1, -(-len(sweeps) // cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(6 * cols, 4.2 * nrows), squeeze=False)
    methods = list(dict.fromkeys(r.method for r in rows))
    for k, sweep in enumerate(sweeps):
        ax = axes[k // cols][k % cols]
        positions, labels = _xs(sweep)
        for i, method in enumerate(methods):
            xs, ys, lo, hi = [], [], [], []
            for x, p in zip(positions, sweep.points, strict=True):
                row = next((r for r in rows if r.point == p and r.method == method), None)
                if row is None or row.ratio is None:
                    continue
                xs.append(x + (i - (len(methods) - 1) / 2) * 0.06)
                ys.append(row.ratio.value)
                lo.append(row.ratio.value - row.ratio.ci.low)
                hi.append(row.ratio.ci.high - row.ratio.value)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", markersize=4, capsize=3,
                            label=method, color=_color(method))
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.axhline(1.0 + threshold, color="red", linestyle="--", linewidth=0.8)
        ax.set_xticks(positions, labels)
        ax.set_xlabel(sweep.label)
        ax.set_ylabel("B / A, median ratio and 95% CI")
        ax.grid(True, alpha=0.3)
    for k in range(len(sweeps), nrows * cols):
        axes[k // cols][k % cols].set_visible(False)
    axes[0][0].legend(fontsize="small")
    fig.suptitle(title)
    written = _save(fig, out_dir, name)
    plt.close(fig)
    return written
