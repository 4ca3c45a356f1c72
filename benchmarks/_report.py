"""Tables of the benchmark results, as Markdown (stdout) or reStructuredText.

``python benchmarks/_report.py benchmarks/results.json [--format rst]``
re-renders the tables of a saved run.
"""

from __future__ import annotations

import json
import sys

import numpy as np

MIB = 2**20


def _time(seconds) -> str:
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def _mib(record) -> str:
    if not record or "peak_extra_bytes" not in record:
        return "–"
    return f"{record['peak_extra_bytes'] / MIB:,.0f}"


def _short_error(error: str) -> str:
    if "MemoryError" in error or "can't allocate memory" in error or "Unable to allocate" in error:
        return "MemoryError"
    return error.split(":")[0][:40]


def _outcome(record, cap) -> str:
    """Time of a call, or why there is none."""
    if record is None:
        return "–"
    status = record["status"]
    if status == "ok":
        return _time(record["median_s"]) + (" †" if record.get("contended") else "")
    if status == "cap":
        return f"> {cap:g} s"
    if status == "error":
        return _short_error(record.get("error", "error"))
    if status == "skipped":
        after = record.get("skipped_after")
        if after == "cap":
            return f"> {cap:g} s (not run)"
        if after == "error":
            return "fails (not run)"
        return "skipped (budget)"
    return status


def _ratio(record, ref, cap) -> str:
    if not record or not ref or ref.get("status") != "ok":
        return "–"
    if record["status"] == "ok":
        return f"{record['median_s'] / ref['median_s']:.3g}"
    if record["status"] == "cap" or record.get("skipped_after") == "cap":
        return f"> {cap / ref['median_s']:.3g}"
    return "–"


def _times_exp(record, exp) -> str:
    if not record or record["status"] != "ok" or not exp or exp["status"] != "ok":
        return _outcome(record, 0) if record else "–"
    return f"{_outcome(record, 0)} ({record['median_s'] / exp['median_s']:.2g}×)"


def _table(headers, rows, fmt, title=None) -> str:
    out = []
    if fmt == "markdown":
        if title:
            out.append(f"### {title}\n")
        out.append("| " + " | ".join(headers) + " |")
        out.append("|" + "|".join("---" for _ in headers) + "|")
        for row in rows:
            out.append("| " + " | ".join(str(c) for c in row) + " |")
    else:
        out.append(f".. list-table:: {title or ''}".rstrip())
        out.append("   :header-rows: 1")
        out.append("")
        for row in [headers, *rows]:
            for i, cell in enumerate(row):
                text = str(cell).replace("|", "\\|").replace("*", "\\*") or " "
                out.append(("   * - " if i == 0 else "     - ") + text)
    return "\n".join(out) + "\n"


def scoring_tables(results, fmt):
    scoring = results.get("scoring", [])
    if not scoring:
        return []
    by = {(r["call"], r["N"], r["K"], r.get("b")): r for r in scoring}
    keys = sorted({(r["N"], r["K"]) for r in scoring})
    b0 = min((r["b"] for r in scoring if r.get("b")), default=None)
    bald_rows, ent_rows, pow_rows = [], [], []
    for n, k in keys:
        exp = by.get(("exp", n, k, None))
        sk = by.get(("skbal.bald", n, k, None))
        ba = by.get(("baal.bald", n, k, None))
        bl = by.get(("baal.bald_lp", n, k, None))
        bb = by.get(("bbr.bald", n, k, b0))
        bald_rows.append([
            f"{n:,}", k, _time(exp and exp.get("median_s")), _times_exp(sk, exp), _times_exp(ba, exp),
            _ratio(ba, sk, 0), _times_exp(bl, exp), _ratio(bl, sk, 0), _times_exp(bb, exp), _ratio(bb, sk, 0),
            _fmt_diff(ba), " / ".join(_mib(r) for r in (sk, ba, bl, bb)),
        ])
        sk = by.get(("skbal.predictive_entropy", n, k, None))
        ba = by.get(("baal.entropy", n, k, None))
        bl = by.get(("baal.entropy_lp", n, k, None))
        ent_rows.append([
            f"{n:,}", k, _time(exp and exp.get("median_s")), _times_exp(sk, exp), _times_exp(ba, exp),
            _ratio(ba, sk, 0), _times_exp(bl, exp), _ratio(bl, sk, 0), _fmt_diff(ba),
            " / ".join(_mib(r) for r in (sk, ba, bl)),
        ])
        sk = by.get(("skbal.power_bald", n, k, b0))
        ba = by.get(("baal.power_bald", n, k, b0))
        pow_rows.append([
            f"{n:,}", k, _times_exp(sk, exp), _times_exp(ba, exp), _ratio(ba, sk, 0), f"{_mib(sk)} / {_mib(ba)}",
        ])
    return [
        _table(["N", "K", "np.exp pass", "skbal bald (× exp)", "baal BALD, probs in (× exp)", "÷ skbal",
                "baal BALD, log-probs in (× exp)", "÷ skbal", f"bbr get_bald_batch b={b0} (× exp)", "÷ skbal",
                "max abs diff baal vs skbal", "peak extra MiB skbal / baal / baal-lp / bbr"], bald_rows, fmt,
               "BALD scores (C = 10)"),
        _table(["N", "K", "np.exp pass", "skbal predictive_entropy (× exp)", "baal Entropy, probs in (× exp)",
                "÷ skbal", "baal Entropy, log-probs in (× exp)", "÷ skbal", "max abs diff",
                "peak extra MiB skbal / baal / baal-lp"], ent_rows, fmt, "Predictive entropy (C = 10)"),
        _table(["N", "K", f"skbal PowerBALD b={b0} (× exp)", f"baal PowerBALD b={b0}, probs in (× exp)", "÷ skbal",
                "peak extra MiB skbal / baal"], pow_rows, fmt, "PowerBALD: BALD + power sampling (C = 10)"),
    ]


def _fmt_diff(record):
    if not record or record.get("max_abs_diff_vs_skbal") is None:
        return "–"
    return f"{record['max_abs_diff_vs_skbal']:.1e}"


def batchbald_tables(results, fmt):
    skbal = results.get("batchbald", [])
    if not skbal:
        return []
    cap = results["meta"]["cap_s"]
    anchors = {(r["call"], r["N"], r["K"], r["b"]): r for r in results.get("batchbald_anchors", [])}
    power = {(r["N"], r["K"], r["b"]): r for r in results.get("scoring", []) if r["call"] == "skbal.power_bald"}
    time_rows, agree_rows = [], []
    for ref in sorted(skbal, key=lambda r: (r["N"], r["K"], r["b"])):
        n, k, b = ref["N"], ref["K"], ref["b"]
        b64 = anchors.get(("bbr.batchbald64", n, k, b))
        b32 = anchors.get(("bbr.batchbald32", n, k, b))
        baal = anchors.get(("baal.batchbald", n, k, b))
        pw = power.get((n, k, b))
        pw_ratio = f"{pw['median_s'] / ref['median_s']:.2g}" if pw and pw["status"] == "ok" and ref["status"] == "ok" else "–"
        time_rows.append([
            f"{n:,}", k, b, _outcome(ref, cap), _outcome(b64, cap), _ratio(b64, ref, cap),
            _outcome(b32, cap), _ratio(b32, ref, cap), _outcome(baal, cap), _ratio(baal, ref, cap), pw_ratio,
        ])
        agree_rows.append([
            f"{n:,}", k, b, _agree(b64, b, True), _agree(b32, b, True), _agree(baal, b, False),
            " / ".join(_mi(r) for r in (ref, b64, b32, baal)) + f" (log K = {np.log(k):.2f})",
            _nan(ref), _nan(b64), _nan(b32), _nan(baal),
            " / ".join(_mib(r) for r in (ref, b64, b32, baal)),
        ])
    scaling_rows = []
    by = {(r["N"], r["K"], r["b"]): r for r in skbal if r["status"] == "ok"}
    for (n, k, b), r in sorted(by.items()):
        small = by.get((10_000, k, b))
        if n > 10_000 and small:
            flag = " †" if r.get("contended") or small.get("contended") else ""
            scaling_rows.append([k, b, _time(small["median_s"]), f"{n:,}", _time(r["median_s"]),
                                 f"{r['median_s'] / small['median_s']:.2f}{flag}"])
    scaling = [_table(["K", "b", "skbal at N = 10,000", "N", "skbal at N", "time ratio"], scaling_rows, fmt,
                      "skbal BatchBALD: cost of a larger pool")] if scaling_rows else []
    return scaling + [
        _table(["N", "K", "b", "skbal", "bbr float64", "bbr64 / skbal", "bbr float32", "bbr32 / skbal",
                "baal", "baal / skbal", "skbal PowerBALD / BatchBALD"], time_rows, fmt,
               "BatchBALD time (C = 10, M = 10,000 joint samples)"),
        _table(["N", "K", "b", "bbr float64: overlap (same-order prefix)", "bbr float32: overlap (prefix)",
                "baal: overlap", "joint MI of the batch, nats ± 2 s.e.: skbal / bbr64 / bbr32 / baal",
                "NaN gains skbal", "NaN scores bbr64 (steps with NaN)", "NaN scores bbr32 (steps with NaN)",
                "non-finite scores baal",
                "peak extra MiB skbal / bbr64 / bbr32 / baal"], agree_rows, fmt,
               "BatchBALD selections vs skbal, NaNs, memory"),
    ]


def _agree(record, b, ordered):
    if not record or record["status"] != "ok" or "overlap_vs_skbal" not in record:
        return "–"
    text = f"{record['overlap_vs_skbal']}/{b}"
    if ordered:
        text += f" ({record['common_prefix_vs_skbal']})"
    return text


def _mi(record):
    if not record or "joint_mi" not in record:
        return "–"
    return f"{record['joint_mi']:.2f} ± {2 * record['joint_mi_se']:.2f}"


def _nan(record):
    if not record or record["status"] != "ok":
        return "–"
    res = record.get("result", {})
    if "nan_steps" in res:
        # NaN in the returned (chosen) scores; steps whose joint entropies had NaN.
        return f"{res['nan']} ({res['nan_steps']})"
    if "raw_nonfinite" in res:
        return f"{res['raw_nonfinite']:,}"
    return f"{res.get('nan', 0):,}"


def mc_table(results, fmt):
    mc = results.get("mc", [])
    if not mc:
        return []
    labels = {
        "mc.eval_forward": "20 eval-mode forwards (inference_mode, 2,560-row batches): floor",
        "mc.skbal": "skbal.sample_log_proba, consistent masks (default)",
        "mc.skbal_independent": "skbal.sample_log_proba, dropout_masks='independent'",
        "mc.predict_proba": "20 × net.predict_proba (skorch, batch 128)",
        "mc.baal": "baal ModelWrapper.predict_on_dataset(iterations=20), batch 128",
    }
    floor = next((r for r in mc if r["call"] == "mc.eval_forward" and r["status"] == "ok"), None)
    rounds = max(len(r.get("round_times", [])) for r in mc)
    rows = []
    for r in mc:
        ok = r["status"] == "ok"
        default_peak = r.get("default_allocator_peak_extra_bytes")
        row = [
            labels.get(r["call"], r["call"]), _outcome(r, results["meta"]["cap_s"]),
            f"{r['rows'] / r['median_s']:,.0f}" if ok else "–",
            f"{r['median_s'] / floor['median_s']:.2f}" if ok and floor else "–", _mib(r),
            f"{default_peak / MIB:,.0f}" if default_peak is not None else "–",
        ]
        if rounds > 1:
            # time over the floor's in the same round; * when other processes
            # took more than 10 % of the CPU during either call
            per_round, quiet = [], []
            for i, t in enumerate(r.get("round_times", [])):
                if floor and i < len(floor["round_times"]):
                    busy = r["round_contended"][i] or floor["round_contended"][i]
                    per_round.append(f"{t / floor['round_times'][i]:.2f}{'*' if busy else ''}")
                    if not busy:
                        quiet.append(t / floor["round_times"][i])
            row.append(f"{np.median(quiet):.2f} ({len(quiet)})" if quiet else "–")
            row.append(" ".join(per_round) or "–")
        rows.append(row)
    rows_n = mc[0]["rows"]
    headers = ["method", "time", "pool rows / s", "× floor", "peak extra MiB (fixed mmap threshold)",
               "peak extra MiB (default allocator, noisy)"]
    if rounds > 1:
        headers += ["× floor, median of the quiet rounds (how many)", "× floor, round by round (* contended)"]
    return [_table(headers, rows, fmt, f"MC-dropout inference, {rows_n:,} rows, 784-512-512-10 MLP, K = 20"
                   + (f", median of {rounds} rounds" if rounds > 1 else ""))]


def edge_table(results, fmt):
    edge = results.get("edge", [])
    if not edge:
        return []
    cap = results["meta"]["cap_s"]
    rows = []
    for r in edge:
        res = r.get("result", {})
        if r["status"] != "ok":
            nan = "–"
        elif "nan_steps" in res:
            nan = f"{res['nan']}/{r['b']} returned scores NaN"
        elif "raw_nonfinite" in res:
            nan = f"{res['raw_nonfinite']:,} raw scores"
        else:
            nan = f"{res.get('nan', 0):,}"
        overlap = f"{r['overlap_vs_skbal']}/{r['b']}" if "overlap_vs_skbal" in r else "–"
        rows.append([r["case"], r["call"], _outcome(r, cap), nan, overlap, _mi(r)])
    n, k, b = edge[0]["N"], edge[0]["K"], edge[0]["b"]
    return [_table(["input", "call", "time", "NaN / non-finite", "batch overlap with skbal",
                    f"joint MI ± 2 s.e. (log K = {np.log(k):.2f})"], rows, fmt,
                   f"Edge cases (N = {n:,}, K = {k}, C = 10, b = {b})")]


def render(results, fmt="markdown") -> str:
    meta = results["meta"]
    m = meta["machine"]
    head = (f"skbal benchmark — {meta['date']} — {m['logical_cpus']} logical CPUs, {m['memory_gib']} GiB, "
            f"torch {meta['versions']['torch']}, cap {meta['cap_s']:g} s per call, "
            f"skbal {meta['git_head'][:10] if meta.get('git_head') else '?'}"
            + (" (+ uncommitted changes in skbal/)" if meta.get("git_dirty_skbal") else ""))
    legend = ("† other processes took more than 10% of the machine's CPU time during this call "
              "(the timing is pessimistic). \"(not run)\": a setting no larger in N, K and b already "
              "failed or hit the cap for this anchor.")
    parts = [head + "\n", legend + "\n"] if fmt == "markdown" else []
    parts += scoring_tables(results, fmt) + batchbald_tables(results, fmt) + edge_table(results, fmt) + mc_table(results, fmt)
    return "\n".join(parts)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--format", choices=["markdown", "rst"], default="markdown")
    a = parser.parse_args()
    with open(a.results) as f:
        print(render(json.load(f), a.format))
    sys.exit(0)
