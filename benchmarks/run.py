"""skbal benchmark: times skbal against baal 2.1.0 and batchbald-redux 2.0.5
in the same run, on the same seeded inputs, each call in a fresh child
process (``_worker.py``) so that its peak memory can be measured and a slow
call can be killed.

Usage (``make bench`` sets up ``.venv-bench/`` and runs this)::

    .venv-bench/bin/python benchmarks/run.py [--quick] [--cap SECONDS] [--out benchmarks/results.json]

Sections:

- scoring: BALD, predictive entropy and PowerBALD on (N, K, C) samples,
  skbal vs baal's heuristics (and batchbald-redux's ``get_bald_batch``), each
  also as a multiple of one ``np.exp`` pass over the same array;
- batchbald: skbal's ``batchbald`` vs ``get_batchbald_batch`` (float64 and
  its float32 default) vs baal's ``BatchBALD``; PowerBALD / BatchBALD ratio;
- mc: MC-dropout inference on a 784-512-512-10 MLP, skbal's
  ``sample_log_proba`` vs 20 eval-mode passes vs baal's ``ModelWrapper``
  (memory from a second child with a fixed glibc mmap threshold);
- edge: BatchBALD and BALD on inputs with a -inf log-probability and with
  float32-underflowing rows;
- every selected BatchBALD batch is also judged by its joint mutual
  information, estimated independently of the libraries (``_quality.py``).

Reported numbers are medians of repeats (5 for calls under 1 s, 3 under 5 s,
else 1) and the peak extra RSS of a call over the RSS just before it.
An anchor call that runs past ``--cap`` is killed and reported as "> cap";
larger settings of that anchor (at least as large in N, K and batch size)
are then not run and reported as skipped; past ``--budget`` seconds the
remaining anchor calls are skipped too. Each child's address space is
limited (``--mem-cap-gib``), so an anchor that needs more memory than the
machine should give it fails with its own MemoryError instead of thrashing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from _generator import make_log_probs, make_pool, summary  # noqa: E402
from _quality import joint_mutual_information  # noqa: E402
from _report import render  # noqa: E402

WORKER = os.path.join(HERE, "_worker.py")
N_CLASSES = 10
N_JOINT_SAMPLES = 10_000

FULL = {
    "n_samples": [2_000, 10_000, 50_000],
    "n_draws": [20, 100],
    "batch_sizes": [10, 50],
    "mc_rows": 100_000,
    "edge": (1_000, 20, 10),
}
QUICK = {
    "n_samples": [1_000, 4_000],
    "n_draws": [20],
    "batch_sizes": [5, 10],
    "mc_rows": 4_000,
    "edge": (500, 20, 5),
}
MC = {"n_features": 784, "n_hidden": 512, "n_classes": 10, "n_mc_samples": 20, "batch_size": 128}

BATCHBALD_ANCHORS = ["bbr.batchbald64", "bbr.batchbald32", "baal.batchbald"]
# A call during which other processes took more than this share of the
# machine's CPU time is marked as contended in the report.
CONTENDED = 0.10


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, cap: float, mem_cap_gib: float, result_dir: str, budget: float | None):
        self.cap = cap
        self.mem_cap = int(mem_cap_gib * 2**30)
        self.result_dir = result_dir
        self.budget = budget
        self.started = time.monotonic()

    def over_budget(self) -> bool:
        return self.budget is not None and time.monotonic() - self.started > self.budget

    def _limit(self):
        resource.setrlimit(resource.RLIMIT_AS, (self.mem_cap, self.mem_cap))

    def run(self, key: str, call: str, data: str, params: dict | None = None, max_repeats: int = 5,
            env: dict | None = None) -> dict:
        spec = {"key": key, "call": call, "data": data, "params": params or {},
                "max_repeats": max_repeats, "result_dir": self.result_dir}
        env = dict(os.environ, TQDM_DISABLE="1", PYTHONWARNINGS="ignore", **(env or {}))
        stderr_path = os.path.join(self.result_dir, key + ".stderr")
        t_launch = time.monotonic()
        with open(stderr_path, "w") as stderr:
            proc = subprocess.Popen([sys.executable, WORKER, json.dumps(spec)], stdout=subprocess.PIPE,
                                    stderr=stderr, cwd=ROOT, env=env, start_new_session=True,
                                    preexec_fn=self._limit)
        record = {"key": key, "call": call, "params": params or {}, "status": "running", "times": [],
                  "peaks": []}
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buffer = b""
        # Loading and importing get a generous allowance; each call gets the cap.
        deadline = time.monotonic() + 300.0
        last_line = time.monotonic()
        done = False
        while not done:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                os.killpg(proc.pid, signal.SIGKILL)
                record["status"] = "cap"
                record["killed_after"] = time.monotonic() - last_line
                break
            events = sel.select(timeout)
            if not events:
                continue
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:  # child exited
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not line.startswith(b"@@"):
                    continue
                msg = json.loads(line[2:])
                last_line = time.monotonic()
                deadline = last_line + self.cap
                ev = msg.pop("event")
                if ev == "ready":
                    record.update(ready=msg)
                elif ev == "repeat":
                    record["times"].append(msg["seconds"])
                    record["peaks"].append(msg["peak_extra_bytes"])
                    record["exact_peak"] = msg["exact_peak"]
                    record.setdefault("foreign_cpu_s", []).append(msg["foreign_cpu_s"])
                elif ev == "result":
                    record["result"] = msg
                elif ev == "error":
                    record.update(status="error", error=msg["error"], error_stage=msg["stage"],
                                  error_seconds=msg.get("seconds"))
                    done = True
                elif ev == "done":
                    record["status"] = "ok"
                    done = True
        sel.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        if record["status"] == "running":
            if record["times"]:  # died after some repeats: keep them
                record["status"] = "ok"
            else:
                record["status"] = "error"
                with open(stderr_path) as f:
                    record["error"] = f"exit code {proc.returncode}: " + f.read()[-400:]
        if record["status"] == "cap" and record["times"]:
            record["status"] = "ok"  # a later repeat was killed; the first ones count
        if record["times"]:
            record["median_s"] = float(np.median(record["times"]))
            record["peak_extra_bytes"] = int(max(record["peaks"]))
            # Share of the machine's CPU time taken by other processes while
            # this call ran (/proc/stat has 10 ms resolution: judged only
            # over at least half a second of calls).
            total = sum(record["times"])
            if total >= 0.5:
                record["foreign_cpu_share"] = sum(record["foreign_cpu_s"]) / (total * (os.cpu_count() or 1))
                if record["foreign_cpu_share"] > CONTENDED:
                    record["contended"] = True
        record["wall_s"] = time.monotonic() - t_launch
        _log(f"  {key:<48} {record['status']:<6} "
             + (f"{record['median_s']:.4g} s x{len(record['times'])}, peak +{record['peak_extra_bytes'] / 2**20:.0f} MiB"
                if "median_s" in record else record.get("error", "")[:120] if record["status"] == "error"
                else f"> {self.cap:g} s")
             + (f"  [contended: {record['foreign_cpu_share']:.0%} of the CPU taken by other processes]"
                if record.get("contended") else ""))
        return record


def _dominated_failure(failures: list, setting: tuple):
    """A failure at a setting no larger in N, K and b (errors such as
    MemoryError before time caps: they say more)."""
    hits = [(failed, record) for failed, record in failures if all(f <= s for f, s in zip(failed, setting))]
    hits.sort(key=lambda hit: hit[1]["status"] != "error")
    return hits[0] if hits else None


def run_scoring(runner, grid, data_files):
    records = []
    for n in grid["n_samples"]:
        for k in grid["n_draws"]:
            data = data_files[(n, k)]
            tag = f"N{n}_K{k}"
            wanted = grid.get("scoring_calls")
            for call in ["exp", "skbal.bald", "skbal.predictive_entropy", "baal.bald", "baal.bald_lp",
                         "baal.entropy", "baal.entropy_lp"]:
                if not wanted or call in wanted:
                    records.append(runner.run(f"scoring_{call}_{tag}", call, data) | {"N": n, "K": k})
            for b in grid["batch_sizes"]:
                if not wanted or "skbal.power_bald" in wanted:
                    records.append(runner.run(f"scoring_skbal.power_bald_{tag}_b{b}", "skbal.power_bald", data,
                                              {"batch_size": b}) | {"N": n, "K": k, "b": b})
            b = grid["batch_sizes"][0]
            for call in ["baal.power_bald", "bbr.bald"]:
                if not wanted or call in wanted:
                    records.append(runner.run(f"scoring_{call}_{tag}_b{b}", call, data, {"batch_size": b})
                                   | {"N": n, "K": k, "b": b})
    return records


def run_batchbald(runner, grid, data_files):
    records = []
    settings = [(n, k, b) for n in grid["n_samples"] for k in grid["n_draws"] for b in grid["batch_sizes"]]
    # skbal also runs at every anchor setting, for the ratio.
    settings += [s for s in grid.get("anchor_settings") or [] if s not in settings]
    for n, k, b in settings:
        records.append(runner.run(f"batchbald_skbal_N{n}_K{k}_b{b}", "skbal.batchbald", data_files[(n, k)],
                                  {"batch_size": b}) | {"N": n, "K": k, "b": b})
    return records


def run_batchbald_anchors(runner, grid, data_files):
    records = []
    settings = grid.get("anchor_settings") or [
        (n, k, b) for n in grid["n_samples"] for k in grid["n_draws"] for b in grid["batch_sizes"]]
    settings = sorted(settings, key=lambda s: (s[0] * s[1] * s[2], s))
    calls = grid.get("anchor_calls") or BATCHBALD_ANCHORS
    failures = {call: [] for call in calls}
    # Interleaved by setting, cheapest first, so that a time budget cuts the
    # largest settings of every anchor rather than one whole anchor.
    for n, k, b in settings:
        for call in calls:
            key = f"batchbald_{call}_N{n}_K{k}_b{b}"
            base = {"key": key, "call": call, "N": n, "K": k, "b": b, "params": {"batch_size": b}}
            hit = _dominated_failure(failures[call], (n, k, b))
            if hit is not None:
                (fn, fk, fb), failed = hit
                records.append(base | {"status": "skipped", "skip_reason":
                                       f"{failed['status']} at N={fn}, K={fk}, b={fb}",
                                       "skipped_after": failed["status"]})
                _log(f"  {key:<48} skipped ({failed['status']} at N={fn}, K={fk}, b={fb})")
                continue
            if runner.over_budget():
                records.append(base | {"status": "skipped", "skip_reason": "time budget"})
                _log(f"  {key:<48} skipped (time budget)")
                continue
            record = runner.run(key, call, data_files[(n, k)], {"batch_size": b}) | {"N": n, "K": k, "b": b}
            records.append(record)
            if record["status"] != "ok":
                failures[call].append(((n, k, b), record))
    return records


EDGE_CASES = {
    "one_neg_inf": "one entry of one row is -inf (probability exactly 0), renormalised",
    "float32_underflow": "every 50th row 4x sharper (log-probs down to about -160: exp underflows to 0 in float32)",
}
EDGE_CALLS = ["skbal.batchbald", "bbr.batchbald64", "bbr.batchbald32", "baal.batchbald", "skbal.bald", "baal.bald"]


def make_edge_case(case: str, n: int, k: int) -> np.ndarray:
    log_probs = make_log_probs(n, k, N_CLASSES, seed=1).astype(np.float64)
    if case == "one_neg_inf":
        c = int(np.argmin(log_probs[0, 0]))
        log_probs[0, 0, c] = -np.inf
        finite = np.isfinite(log_probs[0, 0])
        log_probs[0, 0, finite] -= np.log(np.exp(log_probs[0, 0, finite]).sum())
    elif case == "float32_underflow":
        sharp = 4.0 * log_probs[::50]
        sharp -= sharp.max(axis=-1, keepdims=True)
        sharp -= np.log(np.exp(sharp).sum(axis=-1, keepdims=True))
        log_probs[::50] = sharp
    else:
        raise ValueError(case)
    return log_probs.astype(np.float32)


def edge_files_for(work):
    return {case: os.path.join(work, f"edge_{case}.npy") for case in EDGE_CASES}


def run_edge(runner, grid, work):
    n, k, b = grid["edge"]
    records = []
    for case, path in edge_files_for(work).items():
        np.save(path, make_edge_case(case, n, k))
        for call in EDGE_CALLS:
            params = {"batch_size": b} if "batchbald" in call else {}
            records.append(runner.run(f"edge_{case}_{call}", call, path, params, max_repeats=1)
                           | {"case": case, "N": n, "K": k, "b": b})
    by = {(r["case"], r["call"]): r for r in records}
    for r in records:
        ref = by.get((r["case"], "skbal.batchbald"))
        if "batchbald" in r["call"] and r["status"] == "ok" and ref and ref["status"] == "ok":
            r["overlap_vs_skbal"] = len(set(ref["result"]["indices"]) & set(r["result"]["indices"]))
        r.get("result", {}).pop("scores_path", None)
    return records


# Peak RSS of torch CPU inference under glibc's default (dynamic) mmap
# threshold depends on heap fragmentation: identical skbal runs peaked at
# 0.5 to 3.8 GiB. The memory of the MC section is therefore measured in a
# second child with a fixed threshold (blocks >= 128 KiB are mmapped and
# returned on free), where the peak follows the live memory.
FIXED_MMAP_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}


MC_CALLS = ["mc.eval_forward", "mc.skbal", "mc.skbal_independent", "mc.predict_proba", "mc.baal"]


def run_mc(runner, grid, pool_file):
    """Each method once per round, the rounds one after the other (so that a
    busy spell of the machine hits every method alike); the time of a method
    is the median over the rounds, its memory comes from one more run with a
    fixed mmap threshold."""
    params = dict(MC)
    calls = grid.get("mc_calls") or MC_CALLS
    records = {}
    for _ in range(grid.get("mc_rounds", 1)):
        for call in calls:
            key = f"{call}_rows{grid['mc_rows']}"
            record = runner.run(key, call, pool_file, params, max_repeats=3) | {"rows": grid["mc_rows"]}
            if record["status"] == "ok":
                # one entry per round: the round's median time and its contention
                record["round_times"] = [record["median_s"]]
                record["round_contended"] = [bool(record.get("contended"))]
            if call not in records:
                records[call] = record
            elif record["status"] == "ok" and records[call]["status"] == "ok":
                merged = records[call]
                for field in ("times", "peaks", "foreign_cpu_s", "round_times", "round_contended"):
                    merged[field] = merged.get(field, []) + record.get(field, [])
                merged["median_s"] = float(np.median(merged["round_times"]))
                merged["peak_extra_bytes"] = max(merged["peaks"])
                share = sum(merged["foreign_cpu_s"]) / (sum(merged["times"]) * (os.cpu_count() or 1))
                merged["foreign_cpu_share"] = share
                merged["contended"] = share > CONTENDED
    for call, record in records.items():
        key = f"{call}_rows{grid['mc_rows']}"
        memory = runner.run(key + "_fixed_mmap", call, pool_file, params, max_repeats=1, env=FIXED_MMAP_ENV)
        record["default_allocator_peak_extra_bytes"] = record.pop("peak_extra_bytes", None)
        if memory["status"] == "ok":
            record["peak_extra_bytes"] = memory["peak_extra_bytes"]
            record["fixed_mmap_seconds"] = memory["median_s"]
    return list(records.values())


def _int_list(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v]


def _versions():
    out = {}
    for dist in ["skbal", "numpy", "scipy", "torch", "skorch", "baal", "batchbald-redux", "toma"]:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _git(*args):
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _meta(args, grid):
    import psutil

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv]),
        "machine": {"logical_cpus": os.cpu_count(), "physical_cpus": psutil.cpu_count(logical=False),
                    "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "processor": platform.processor() or platform.machine(), "python": platform.python_version()},
        "versions": _versions(),
        "loadavg_start": os.getloadavg(),
        "git_head": _git("rev-parse", "HEAD"),
        "git_dirty_skbal": _git("status", "--porcelain", "--", "skbal"),
        "cap_s": args.cap, "mem_cap_gib": args.mem_cap_gib, "budget_s": args.budget, "quick": args.quick,
        "edge_cases": EDGE_CASES,
        "grid": grid, "n_classes": N_CLASSES, "n_joint_samples": N_JOINT_SAMPLES, "mc": MC,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grid (a smoke test, about 5 minutes)")
    parser.add_argument("--cap", type=float, default=120.0, help="per-call time cap in seconds (default 120)")
    parser.add_argument("--out", default=os.path.join(HERE, "results.json"), help="JSON results file")
    parser.add_argument("--mem-cap-gib", type=float, default=12.0,
                        help="address-space limit of each child process, GiB (default 12)")
    parser.add_argument("--budget", type=float, default=1500.0,
                        help="seconds since the start after which the remaining BatchBALD anchor calls are "
                             "skipped (default 1500; 0: no budget)")
    parser.add_argument("--sections", default="scoring,batchbald,mc,edge,anchors",
                        help="comma-separated subset of scoring,batchbald,mc,edge,anchors")
    parser.add_argument("--n-samples", type=_int_list, help="override the grid's N values, e.g. 10000,50000")
    parser.add_argument("--n-draws", type=_int_list, help="override the grid's K values, e.g. 20")
    parser.add_argument("--batch-sizes", type=_int_list, help="override the grid's batch sizes, e.g. 10,50")
    parser.add_argument("--mc-rows", type=int, help="override the number of pool rows of the MC section")
    parser.add_argument("--mc-calls", type=lambda v: v.split(","),
                        help="MC methods to run (default all), a subset of " + ",".join(MC_CALLS))
    parser.add_argument("--mc-rounds", type=int, default=1,
                        help="run the MC methods this many times in turn and report each one's median (default 1)")
    parser.add_argument("--anchor-calls", type=lambda v: v.split(","),
                        help="BatchBALD anchors to run, a subset of " + ",".join(BATCHBALD_ANCHORS))
    parser.add_argument("--anchor-settings", type=lambda v: [tuple(_int_list(x.replace("x", ","))) for x in
                                                             v.split(",") if x],
                        help="only these anchor settings, NxKxb separated by commas, e.g. 10000x20x10,2000x20x50 "
                             "(their N and K are added to the grid's inputs)")
    parser.add_argument("--scoring-calls", type=lambda v: v.split(","),
                        help="scoring calls to run (default all), e.g. exp,skbal.predictive_entropy,baal.entropy")
    args = parser.parse_args(argv)
    grid = dict(QUICK if args.quick else FULL)
    for key in ("n_samples", "n_draws", "batch_sizes", "mc_rows"):
        if getattr(args, key) is not None:
            grid[key] = getattr(args, key)
    grid["anchor_calls"] = args.anchor_calls or BATCHBALD_ANCHORS
    grid["anchor_settings"] = args.anchor_settings
    grid["scoring_calls"] = args.scoring_calls
    grid["mc_calls"], grid["mc_rounds"] = args.mc_calls, max(1, args.mc_rounds)
    sections = set(args.sections.split(","))

    work = tempfile.mkdtemp(prefix="skbal-bench-")
    try:
        t0 = time.monotonic()
        _log(f"generating inputs in {work}")
        data_files, generator = {}, {}
        shapes = {(n, k) for n in grid["n_samples"] for k in grid["n_draws"]}
        shapes |= {(n, k) for n, k, _ in grid.get("anchor_settings") or []}
        for n, k in sorted(shapes):
            log_probs = make_log_probs(n, k, N_CLASSES, seed=0)
            path = os.path.join(work, f"log_probs_N{n}_K{k}.npy")
            np.save(path, log_probs)
            data_files[(n, k)] = path
            generator[f"N{n}_K{k}"] = summary(log_probs) if n * k <= 10_000 * 100 else None
            del log_probs
        pool_file = os.path.join(work, "pool.npy")
        if "mc" in sections:
            np.save(pool_file, make_pool(grid["mc_rows"], MC["n_features"], seed=0))
        runner = Runner(args.cap, args.mem_cap_gib, work, args.budget or None)
        results = {"meta": _meta(args, grid), "generator": generator}
        if "scoring" in sections:
            _log("scoring")
            results["scoring"] = run_scoring(runner, grid, data_files)
        if "batchbald" in sections:
            _log("batchbald (skbal)")
            results["batchbald"] = run_batchbald(runner, grid, data_files)
        if "mc" in sections:
            _log("mc inference")
            results["mc"] = run_mc(runner, grid, pool_file)
        if "edge" in sections:
            _log("edge cases")
            results["edge"] = run_edge(runner, grid, work)
        if "anchors" in sections:
            _log("batchbald (anchors)")
            results["batchbald_anchors"] = run_batchbald_anchors(runner, grid, data_files)
        _attach_comparisons(results, grid)
        _log("joint mutual information of the selected batches")
        _attach_batch_quality(results, data_files, edge_files_for(work))
        results["meta"]["total_wall_s"] = time.monotonic() - t0
        results["meta"]["loadavg_end"] = os.getloadavg()
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1, default=str)
        print(render(results, "markdown"))
        _log(f"wrote {args.out} ({results['meta']['total_wall_s']:.0f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _attach_batch_quality(results, data_files, edge_files):
    """Joint mutual information of every selected BatchBALD batch, by the
    independent estimator of ``_quality.py`` (one data load per input)."""
    groups = {}
    for section in ("batchbald", "batchbald_anchors"):
        for r in results.get(section, []):
            groups.setdefault(data_files[(r["N"], r["K"])], []).append(r)
    for r in results.get("edge", []):
        if "batchbald" in r["call"]:
            groups.setdefault(edge_files[r["case"]], []).append(r)
    for path, records in groups.items():
        log_probs = None
        for r in records:
            if r["status"] != "ok" or not r.get("result", {}).get("indices"):
                continue
            if log_probs is None:
                log_probs = np.load(path)
            mi, se = joint_mutual_information(log_probs, r["result"]["indices"])
            r["joint_mi"], r["joint_mi_se"] = mi, se
            r["log_K"] = float(np.log(r["K"]))


def _attach_comparisons(results, grid):
    """Score differences and selection overlaps, computed from the saved outputs."""

    def load(record):
        path = (record.get("result") or {}).get("scores_path")
        return np.load(path) if path and os.path.exists(path) else None

    scoring = results.get("scoring", [])
    by = {(r["call"], r["N"], r["K"], r.get("b")): r for r in scoring}
    for r in scoring:
        ref_call = {"baal.bald": "skbal.bald", "baal.bald_lp": "skbal.bald", "baal.entropy": "skbal.predictive_entropy",
                    "baal.entropy_lp": "skbal.predictive_entropy"}.get(r["call"])
        if ref_call and r["status"] == "ok":
            ref = by.get((ref_call, r["N"], r["K"], None))
            if ref and ref["status"] == "ok":
                a, s = load(r), load(ref)
                if a is not None and s is not None:
                    finite = np.isfinite(a)
                    r["max_abs_diff_vs_skbal"] = float(np.max(np.abs(a[finite] - s[finite]))) if finite.any() else None
        if r["call"] == "bbr.bald" and r["status"] == "ok":
            ref = by.get(("skbal.bald", r["N"], r["K"], None))
            s = load(ref) if ref else None
            if s is not None:
                top = np.argsort(-s, kind="stable")[: r["b"]]
                r["overlap_vs_skbal_top_k"] = len(set(top.tolist()) & set(r["result"]["indices"]))
    for r in scoring:
        r.get("result", {}).pop("scores_path", None)

    skbal = {(r["N"], r["K"], r["b"]): r for r in results.get("batchbald", [])}
    for r in results.get("batchbald_anchors", []):
        ref = skbal.get((r["N"], r["K"], r["b"]))
        if r["status"] != "ok" or not ref or ref["status"] != "ok":
            continue
        mine, theirs = ref["result"]["indices"], r["result"]["indices"]
        r["overlap_vs_skbal"] = len(set(mine) & set(theirs))
        prefix = 0
        for a, b in zip(mine, theirs):
            if a != b:
                break
            prefix += 1
        r["common_prefix_vs_skbal"] = prefix
        if r["call"] == "baal.batchbald":
            # baal's first pick is the BALD argmax (= skbal's first pick); is
            # it among the b indices a user takes from baal's ranking?
            r["first_pick_in_top_b"] = mine[0] in theirs


if __name__ == "__main__":
    sys.exit(main())
