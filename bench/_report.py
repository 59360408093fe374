"""The tables printed by bench/imaging.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

GROUPS = ("spread-2", "page-1", "stacked", "spread-stacked", "ALL")


REAL_LIKE_GROUPS = ("stacked", "spread-table", "ALL")


def _rows(pages: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    return [r for p in pages for r in p["rows"] if group in ("ALL", r["profile"])]


def _sizes(rows: list[dict[str, Any]], method: str) -> str:
    sizes = np.array([r[method]["bytes"] for r in rows if method in r]) / 1024
    if sizes.size == 0:
        return "-"
    return f"{np.median(sizes):.0f}/{np.percentile(sizes, 95):.0f}/{sizes.max():.0f}"


def _share(rows: list[dict[str, Any]], method: str, key: str) -> str:
    values = [r[method][key] for r in rows if method in r and r[method].get(key) is not None]
    if not values:
        return "-"
    kept = sum(bool(v) for v in values)
    return f"{100 * kept / len(values):.1f}% ({kept}/{len(values)})"


def _cer(rows: list[dict[str, Any]], method: str) -> str:
    pairs = [r[method]["cer"] for r in rows if method in r and "cer" in r[method]]
    chars = sum(c for _, c in pairs)
    return "-" if not chars else f"{100 * sum(e for e, _ in pairs) / chars:.1f}% (n={len(pairs)})"


def _ink(rows: list[dict[str, Any]], method: str, faded: bool | None = None) -> str:
    chosen = [r[method]["ink"] for r in rows if method in r and faded in (None, r["faded"])]
    total = sum(n for n, _ in chosen)
    if not total:
        return "-"
    recall = sum(n * v for n, v in chosen) / total
    worst = min(v for n, v in chosen if n)
    return f"{100 * recall:.1f}% (min {100 * worst:.0f})"


def _over(rows: list[dict[str, Any]], method: str, budget: int) -> str:
    sizes = [r[method]["bytes"] for r in rows if method in r]
    return f"{sum(s > budget for s in sizes)}/{len(sizes)}"


def clean_of_all(pages: list[dict[str, Any]]) -> str:
    """Our clean cuts over every true entry, pages with a wrong count included (as 0)."""
    rows = _rows(pages, "ALL")
    clean = sum(bool(r["ours"]["clean"]) for r in rows if "ours" in r)
    return f"{100 * clean / max(1, len(rows)):.1f}% ({clean}/{len(rows)})"


def print_report(
    pages: list[dict[str, Any]],
    times: list[tuple[int, float, float, tuple[int, ...]]],
    budget: int,
    methods: Sequence[str],
) -> None:
    """Per profile and overall: found, clean, size, CER, ink, stamps; then time/memory."""
    print_corpus(pages, budget, methods, GROUPS, "printed CER")
    print(
        "\nnormalise + segment + crops of one A3 spread: CPU time, and peak RSS including"
        " decoding it with the station's loader (child process, OpenCV 1 thread)"
    )
    for dpi, best, peak, shape in times:
        print(f"  {dpi} dpi {shape[1]}x{shape[0]}: {best:.3f} s CPU, peak RSS {peak:.0f} MB")


def print_corpus(
    pages: list[dict[str, Any]],
    budget: int,
    methods: Sequence[str],
    groups: Sequence[str],
    cer_label: str,
) -> None:
    """The count table, then every figure per group of profiles, and the encodings."""
    print("\nEntries found and count checks")
    print(f"{'profile':16} {'pages':>5} {'entries':>8} {'found':>6} {'wrong-count':>11} "
          f"{'flagged':>8} {'seg CPU s/page':>14}")  # fmt: skip
    for group in groups:
        chosen = [
            p for p in pages if group in ("ALL", p["rows"][0]["profile"] if p["rows"] else "")
        ]
        wrong = [p for p in chosen if p["found"] != p["truth"]]
        flagged = sum(p["flagged"] for p in wrong)
        cpu = np.mean([p["seg_cpu"] for p in chosen]) if chosen else 0.0
        truth, found = sum(p["truth"] for p in chosen), sum(p["found"] for p in chosen)
        print(f"{group:16} {len(chosen):>5} {truth:>8} {found:>6} {len(wrong):>11} "
              f"{flagged:>8} {cpu:>14.2f}")  # fmt: skip
    figures = [
        ("cut cleanly", lambda rows, m: _share(rows, m, "clean")),
        ("KB med/p95/max", _sizes),
        (f"over {budget // 1024} KB", lambda rows, m: _over(rows, m, budget)),
        (cer_label, _cer),
        ("ink recall", lambda rows, m: _ink(rows, m)),
        ("ink recall faded", lambda rows, m: _ink(rows, m, True)),
        ("stamps red", lambda rows, m: _share(rows, m, "red")),
    ]
    for group in groups:
        rows = _rows(pages, group)
        print(f"\n[{group}] {len(rows)} entries, {sum(r['faded'] for r in rows)} faded, "
              f"{sum(r['stamp'] for r in rows)} stamped")  # fmt: skip
        print(f"{'figure':18}" + "".join(f"{m:>26}" for m in methods))
        for name, function in figures:
            print(f"{name:18}" + "".join(f"{function(rows, m):>26}" for m in methods))
    encodings: dict[str, int] = {}
    for row in _rows(pages, "ALL"):
        if "ours" in row:
            encodings[row["ours"]["encoding"]] = encodings.get(row["ours"]["encoding"], 0) + 1
    print(f"\nour encodings: {encodings}")
