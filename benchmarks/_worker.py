"""Child process of the benchmark: one library call on one input, timed.

Usage (by ``run.py`` only): ``python _worker.py SPEC_JSON``. SPEC holds the
call name, the input file, the call's parameters, the repeat policy and a
folder for result arrays.

Protocol on stdout, one JSON object per line prefixed by ``@@``:
``{"event": "ready", ...}`` once the inputs are loaded and prepared, then
``{"event": "repeat", "seconds": t, "peak_extra_bytes": m}`` per timed call,
``{"event": "result", ...}`` once (summary of the first call's output) and
``{"event": "done"}``. The parent enforces the per-call time cap by killing
the child when no line arrives in time.

Peak memory of a call: the kernel's peak RSS (VmHWM) is reset through
``/proc/self/clear_refs`` right before the call and read right after it;
the call's peak extra memory is VmHWM minus the RSS just before the call
(inputs, libraries and earlier results are in that baseline). Freed heap
memory is handed back (``malloc_trim``) before each call, so a call cannot
hide its temporaries in memory freed during preparation.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
import traceback
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def emit(event: str, **fields) -> None:
    sys.stdout.write("@@" + json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _malloc_trim() -> None:
    """Give freed heap memory back to the OS (glibc), so that a call cannot
    reuse memory freed during preparation without it showing in its peak."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _cpu_seconds():
    """(CPU seconds used by the whole machine, by this process) so far.

    Their difference over a call is the CPU time that other processes took
    while it ran: the benchmark shares a 2-core machine, and a call that
    competed for the cores is flagged in the report.
    """
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return busy / os.sysconf("SC_CLK_TCK"), usage.ru_utime + usage.ru_stime


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# calls: each prepare_* loads what it needs and returns (call, summarise)
# ---------------------------------------------------------------------------


def _load(spec):
    return np.load(spec["data"])


def _baal_probs(log_probs):
    """baal's layout: probabilities [N, C, K], contiguous float32 (as
    ModelWrapper.predict_on_dataset returns them, after a softmax)."""
    return np.ascontiguousarray(np.exp(log_probs).transpose(0, 2, 1))


def _save(spec, name, array):
    path = os.path.join(spec["result_dir"], name + ".npy")
    np.save(path, np.asarray(array))
    return path


def _score_summary(spec, scores):
    scores = np.asarray(scores, dtype=np.float64)
    return {
        "nan": int(np.isnan(scores).sum()),
        "nonfinite": int((~np.isfinite(scores)).sum()),
        "scores_path": _save(spec, spec["key"], scores),
    }


def prepare(spec):
    name, p = spec["call"], spec.get("params", {})
    b = p.get("batch_size")

    if name == "exp":
        lp = _load(spec)
        return (lambda: np.exp(lp)), (lambda out: {})

    if name.startswith("skbal."):
        from skbal.acquisition import bald, batchbald, predictive_entropy, stochastic_top_k

        lp = _load(spec)
        if name == "skbal.bald":
            return (lambda: bald(lp)), (lambda s: _score_summary(spec, s))
        if name == "skbal.predictive_entropy":
            return (lambda: predictive_entropy(lp)), (lambda s: _score_summary(spec, s))
        if name == "skbal.power_bald":
            return (lambda: stochastic_top_k(bald(lp), b, random_state=0)), (
                lambda idx: {"indices": np.asarray(idx).tolist()}
            )
        if name == "skbal.batchbald":
            def summarise(out):
                indices, gains = out
                return {"indices": indices.tolist(), "nan": int(np.isnan(gains).sum()),
                        "gains_head": gains[:6].tolist()}
            return (lambda: batchbald(lp, b, random_state=0)), summarise

    if name.startswith("bbr."):
        import torch
        from batchbald_redux import batchbald as bbr
        from batchbald_redux import joint_entropy as bbr_je

        lp = torch.from_numpy(_load(spec))
        if name == "bbr.bald":
            def summarise(out):
                return {"indices": list(out.indices)}
            return (lambda: bbr.get_bald_batch(lp, b)), summarise
        dtype = {"bbr.batchbald64": torch.float64, "bbr.batchbald32": None}[name]
        # Count NaN joint entropies per greedy step (an O(N) check on the
        # library's output; the computation itself is untouched).
        nan_count = {"entries": 0, "steps": 0}
        original = bbr_je.DynamicJointEntropy.compute_batch

        def counting(self, log_probs_B_K_C, output_entropies_B=None):
            out = original(self, log_probs_B_K_C, output_entropies_B)
            n = int(torch.isnan(out).sum())
            nan_count["entries"] += n
            nan_count["steps"] += n > 0
            return out

        bbr_je.DynamicJointEntropy.compute_batch = counting

        def call():
            torch.manual_seed(0)
            nan_count["entries"] = nan_count["steps"] = 0
            return bbr.get_batchbald_batch(lp, b, num_samples=10_000, dtype=dtype, device="cpu")

        def summarise(out):
            scores = np.asarray(out.scores, dtype=np.float64)
            return {"indices": list(map(int, out.indices)), "nan": int(np.isnan(scores).sum()),
                    "nan_entries_all_steps": nan_count["entries"], "nan_steps": nan_count["steps"],
                    "scores_head": scores[:6].tolist()}
        return call, summarise

    if name.startswith("baal."):
        import torch
        from baal.active.heuristics import BALD, BatchBALD, Entropy
        from baal.active.heuristics.aliases import PowerBALD

        if name.endswith("_lp"):
            # Log-probabilities in baal's [N, C, K] layout: baal's to_prob sees
            # values outside [0, 1] and applies a softmax over the classes
            # itself (what it does with a model's logits), inside the timing.
            probs = np.ascontiguousarray(_load(spec).transpose(0, 2, 1))
            name = name[: -len("_lp")]
        else:
            probs = _baal_probs(_load(spec))
        raw = {"nonfinite": 0}

        def counted(heuristic):
            # Count non-finite raw scores before get_uncertainties replaces them.
            original = heuristic.compute_score

            def compute_score(*args, **kwargs):
                s = original(*args, **kwargs)
                raw["nonfinite"] = int((~np.isfinite(np.asarray(s))).sum())
                return s
            heuristic.compute_score = compute_score
            return heuristic

        if name == "baal.bald":
            h = counted(BALD())
            return (lambda: h.get_uncertainties(probs)), (
                lambda s: {**_score_summary(spec, s), "raw_nonfinite": raw["nonfinite"]})
        if name == "baal.entropy":
            h = counted(Entropy())
            return (lambda: h.get_uncertainties(probs)), (
                lambda s: {**_score_summary(spec, s), "raw_nonfinite": raw["nonfinite"]})
        if name == "baal.power_bald":
            h = PowerBALD(query_size=b)

            def call():
                np.random.seed(0)  # baal samples with the global numpy RNG
                return h.get_ranks(probs)[0]
            return call, (lambda idx: {"indices": np.asarray(idx).tolist()})
        if name == "baal.batchbald":
            h = counted(BatchBALD(num_samples=b))

            def call():
                torch.manual_seed(0)  # baal samples with the global torch RNG
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    ranks, scores = h.get_ranks(probs)
                return ranks, scores, [str(w.message)[:80] for w in caught]

            def summarise(out):
                ranks, scores, caught = out
                chosen = np.flatnonzero(scores != 0)
                return {"indices": ranks[:b].tolist(), "n_nonzero_scores": int(chosen.size),
                        "raw_nonfinite": raw["nonfinite"], "warnings": sorted(set(caught)),
                        "scores_head": np.sort(scores)[::-1][: b + 1].tolist()}
            return call, summarise

    if name.startswith("mc."):
        return prepare_mc(spec)

    raise ValueError(f"unknown call {name!r}")


def _mlp(n_features, n_hidden, n_classes, p):
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(n_features, n_hidden), nn.ReLU(), nn.Dropout(p),
        nn.Linear(n_hidden, n_hidden), nn.ReLU(), nn.Dropout(p),
        nn.Linear(n_hidden, n_classes),
    )


def prepare_mc(spec):
    import torch
    from skorch import NeuralNetClassifier

    import skbal

    p = spec["params"]
    name, n_draws = spec["call"], p["n_mc_samples"]
    X = np.load(spec["data"])
    torch.manual_seed(0)
    net = NeuralNetClassifier(
        _mlp, module__n_features=X.shape[1], module__n_hidden=p["n_hidden"], module__n_classes=p["n_classes"],
        module__p=0.5, criterion=torch.nn.CrossEntropyLoss, batch_size=p["batch_size"], device="cpu",
        classes=list(range(p["n_classes"])),
    ).initialize()

    def shape_summary(out):
        return {"shape": list(np.shape(out)), "dtype": str(np.asarray(out).dtype),
                "nonfinite": int((~np.isfinite(out)).sum())}

    if name in ("mc.skbal", "mc.skbal_independent"):
        masks = "independent" if name.endswith("independent") else "consistent"
        return (lambda: skbal.sample_log_proba(net, X, n_draws, random_state=0, dropout_masks=masks)), shape_summary
    if name == "mc.predict_proba":
        def call():
            return np.stack([net.predict_proba(X) for _ in range(n_draws)], axis=1)
        return call, shape_summary
    if name == "mc.eval_forward":
        module, rows = net.module_, p["batch_size"] * n_draws
        Xt = torch.from_numpy(X)

        def call():
            module.eval()
            out = torch.empty((X.shape[0], n_draws, p["n_classes"]))
            with torch.inference_mode():
                for k in range(n_draws):
                    for start in range(0, X.shape[0], rows):
                        out[start:start + rows, k] = torch.log_softmax(module(Xt[start:start + rows]), dim=-1)
            return out.numpy()
        return call, shape_summary
    if name == "mc.baal":
        import copy

        from baal.bayesian.dropout import patch_module
        from baal.modelwrapper import ModelWrapper, TrainingArgs
        from torch.utils.data import TensorDataset

        model = patch_module(copy.deepcopy(net.module_))
        wrapper = ModelWrapper(model, TrainingArgs(batch_size=p["batch_size"], use_cuda=False, workers=0,
                                                   criterion=torch.nn.CrossEntropyLoss()))
        dataset = TensorDataset(torch.from_numpy(X))

        def call():
            torch.manual_seed(0)
            return wrapper.predict_on_dataset(dataset, iterations=n_draws, verbose=False)
        return call, shape_summary
    raise ValueError(f"unknown call {name!r}")


# ---------------------------------------------------------------------------


def main() -> int:
    spec = json.loads(sys.argv[1])
    t_start = time.perf_counter()
    try:
        call, summarise = prepare(spec)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        emit("error", stage="prepare", error=f"{type(exc).__name__}: {exc}"[:300], trace=traceback.format_exc()[-1500:])
        return 1
    import torch

    emit("ready", load_seconds=time.perf_counter() - t_start, torch_threads=torch.get_num_threads(),
         rss_bytes=_status_kib("VmRSS") * 1024)

    max_repeats = spec.get("max_repeats", 5)
    times = []
    summary_sent = False
    gc.collect()
    while True:
        _malloc_trim()
        exact_peak = reset_peak()
        baseline = _status_kib("VmRSS")
        machine0, own0 = _cpu_seconds()
        t0 = time.perf_counter()
        try:
            out = call()
        except Exception as exc:  # noqa: BLE001 - MemoryError and allocator RuntimeErrors land here
            emit("error", stage="call", error=f"{type(exc).__name__}: {exc}"[:300],
                 seconds=time.perf_counter() - t0, trace=traceback.format_exc()[-1500:])
            return 1
        seconds = time.perf_counter() - t0
        machine1, own1 = _cpu_seconds()
        peak = _status_kib("VmHWM") - baseline
        foreign = max(0.0, (machine1 - machine0) - (own1 - own0))
        times.append(seconds)
        emit("repeat", seconds=seconds, peak_extra_bytes=peak * 1024, exact_peak=exact_peak,
             foreign_cpu_s=foreign)
        if not summary_sent:
            emit("result", **summarise(out))
            summary_sent = True
        del out
        # Fewer repeats for slow calls: 5 under 1 s, 3 under 5 s, else 1.
        target = min(max_repeats, 5 if times[0] < 1.0 else 3 if times[0] < 5.0 else 1)
        if len(times) >= target:
            break
    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
