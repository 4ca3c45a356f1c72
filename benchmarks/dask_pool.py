"""Scoring a pool of a million rows in memory and on a Dask LocalCluster.

Not a test: a measurement for ``docs/dask.rst``. Each configuration runs in a
fresh child process (so peak memory is its own):

- ``memory``: ``strategy.select(net, X)`` on a numpy pool (blocks of 4096
  rows, torch with every core);
- ``memory-1thread``: the same with one torch / BLAS thread, as Dask
  starts its workers (``OMP_NUM_THREADS=1``): the per-core rate;
- ``memory-whole``: the same query the pre-block way, for reference:
  ``sample_log_proba`` of the whole pool, (N, K, C) float32 in memory, then
  ``bald`` and ``top_k``;
- ``dask-1`` / ``dask-2``: a LocalCluster of 1 or 2 worker processes (one
  thread each, as Dask starts them: OMP/MKL threads = 1), the pool generated
  and persisted on the workers, then ``strategy.select(net, X_dask)``;
- ``dask-1-malloc`` / ``dask-2-malloc``: the same, without the
  ``MALLOC_TRIM_THRESHOLD_=65536`` that Dask sets in its workers'
  environment (``distributed.nanny.pre-spawn-environ``). Setting it turns
  off glibc's dynamic mmap threshold, so every large temporary of a forward
  pass is mmapped and unmapped again.

The net is a small MC-dropout MLP (32 -> 64 -> dropout -> 64 -> dropout ->
10, trained once in the parent and pickled to the children), K = 20 draws.
Strategies: BALD (top-k) and BatchBALD with ``max_candidates=2000``.

Reported per configuration and strategy: rows per second of the fastest of
``--repeats`` queries (default 3, as the machine may be shared; pool
generation and persisting excluded; a query on 8192 rows first warms each
process up), and per process the RSS just before the first query and the
highest peak RSS during one (sampled every 10 ms; for the cluster: the
client and each worker). Every configuration but ``memory-whole`` (whose
independent masks come from one stream for the whole pool) must select the
same indices: the script checks it.

Usage::

    .venv/bin/python benchmarks/dask_pool.py [--rows 1048576] [--repeats 3] [--out results-dask.json]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

N_FEATURES = 32
N_CLASSES = 10
CHUNK_ROWS = 65_536  # a multiple of skbal's 4096-row blocks: no row moves
K = 20


# --------------------------------------------------------------------------
# data and model
# --------------------------------------------------------------------------


def make_chunk(index: int, rows: int) -> np.ndarray:
    """Chunk ``index`` of the pool, the same wherever it is generated."""
    rng = np.random.default_rng([20_240_801, index])
    centres = np.random.default_rng(7).standard_normal((N_CLASSES, N_FEATURES)).astype(np.float32)
    labels = rng.integers(N_CLASSES, size=rows)
    return (centres[labels] + 1.5 * rng.standard_normal((rows, N_FEATURES), dtype=np.float32)).astype(np.float32)


def chunk_sizes(n_rows: int) -> list[int]:
    sizes = [CHUNK_ROWS] * (n_rows // CHUNK_ROWS)
    if n_rows % CHUNK_ROWS:
        sizes.append(n_rows % CHUNK_ROWS)
    return sizes


def train_net(path: str) -> None:
    import torch
    from torch import nn

    import skbal

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    centres = np.random.default_rng(7).standard_normal((N_CLASSES, N_FEATURES)).astype(np.float32)
    y = rng.integers(N_CLASSES, size=2000)
    X = (centres[y] + 1.5 * rng.standard_normal((2000, N_FEATURES))).astype(np.float32)
    module = nn.Sequential(
        nn.Linear(N_FEATURES, 64), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(64, N_CLASSES),
    )
    net = skbal.MCDropoutClassifier(
        module, criterion=nn.CrossEntropyLoss, n_mc_samples=K, max_epochs=10, lr=0.05,
        batch_size=512, train_split=None, verbose=0, classes=np.arange(N_CLASSES),
    ).fit(X, y)
    with open(path, "wb") as f:
        pickle.dump(net, f)


# --------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------


class PeakRSS:
    """RSS of this process just before ``start`` and its peak until ``stop``."""

    def __init__(self, interval: float = 0.01):
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.before = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self._interval)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)
        return {"rss_before_mib": self.before / 2**20, "rss_peak_mib": self.peak / 2**20}


def _worker_start(dask_worker):
    dask_worker._skbal_peak = PeakRSS()


def _worker_stop(dask_worker):
    return dask_worker._skbal_peak.stop()


# --------------------------------------------------------------------------
# one configuration (child process)
# --------------------------------------------------------------------------


def strategies():
    import skbal

    return {
        "BALD": skbal.BALD(query_size=10, n_mc_samples=K, random_state=0),
        "BatchBALD(max_candidates=2000)": skbal.BatchBALD(
            query_size=10, n_mc_samples=K, max_candidates=2000, random_state=0
        ),
    }


def run_memory(net, n_rows: int, whole: bool, repeats: int) -> list[dict]:
    import skbal
    from skbal import acquisition

    X = np.concatenate([make_chunk(i, rows) for i, rows in enumerate(chunk_sizes(n_rows))])
    for strategy in strategies().values():  # warm up, as the cluster runs are
        strategy.select(net, X[:8192])
    out = []
    for name, strategy in strategies().items():
        if whole and name != "BALD":
            continue
        times, processes = [], {}
        for _ in range(repeats):
            monitor = PeakRSS()
            start = time.perf_counter()
            if whole:
                rng = skbal.utils.check_random_state(0)
                seed = skbal.utils.spawn_seed(rng)
                log_probs = skbal.sample_log_proba(net, X, K, random_state=seed, dropout_masks="independent")
                scores = acquisition.bald(log_probs)
                indices = acquisition.top_k(scores, 10)
                del log_probs
            else:
                indices, _ = strategy.select(net, X)
            times.append(time.perf_counter() - start)
            _keep_peaks(processes, {"client": monitor.stop()})
        out.append({"strategy": name, "seconds": times, "indices": np.asarray(indices).tolist(),
                    "processes": processes})
    return out


def _keep_peaks(processes: dict, new: dict) -> None:
    """The first RSS before, the highest peak, over the repeats."""
    for name, stats in new.items():
        old = processes.setdefault(name, stats)
        old["rss_peak_mib"] = max(old["rss_peak_mib"], stats["rss_peak_mib"])


def run_dask(net, n_rows: int, n_workers: int, repeats: int, malloc_default: bool) -> list[dict]:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if not malloc_default:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
    with cluster, Client(cluster) as client:
        blocks = [
            da.from_delayed(dask.delayed(make_chunk)(i, rows), shape=(rows, N_FEATURES), dtype=np.float32)
            for i, rows in enumerate(chunk_sizes(n_rows))
        ]
        X = client.persist(da.concatenate(blocks))
        wait(X)
        for strategy in strategies().values():  # warm the workers up (imports, first forwards)
            strategy.select(net, X[:8192])
        out = []
        for name, strategy in strategies().items():
            times, processes = [], {}
            for _ in range(repeats):
                client.run(_worker_start)
                monitor = PeakRSS()
                start = time.perf_counter()
                indices, _ = strategy.select(net, X)
                times.append(time.perf_counter() - start)
                stats = {"client": monitor.stop()}
                for i, (_, worker) in enumerate(sorted(client.run(_worker_stop).items())):
                    stats[f"worker {i}"] = worker
                _keep_peaks(processes, stats)
            out.append({"strategy": name, "seconds": times, "indices": indices.tolist(), "processes": processes})
        return out


def child(config: str, net_path: str, n_rows: int, repeats: int) -> None:
    with open(net_path, "rb") as f:
        net = pickle.load(f)
    if config in ("memory", "memory-1thread"):
        results = run_memory(net, n_rows, whole=False, repeats=repeats)
    elif config == "memory-whole":
        results = run_memory(net, n_rows, whole=True, repeats=repeats)
    else:
        results = run_dask(net, n_rows, int(config.split("-")[1]), repeats, malloc_default=config.count("-") == 1)
    print("RESULT " + json.dumps(results))


# --------------------------------------------------------------------------
# parent
# --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2**20)
    parser.add_argument("--configs", default="memory,memory-1thread,memory-whole,dask-1,dask-2,dask-1-malloc,dask-2-malloc")
    parser.add_argument("--repeats", type=int, default=3, help="queries per strategy; the fastest is reported")
    parser.add_argument("--out", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--net", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.net, args.rows, args.repeats)
        return

    with tempfile.TemporaryDirectory() as tmp:
        net_path = os.path.join(tmp, "net.pkl")
        train_net(net_path)
        import skbal

        report = {"rows": args.rows, "n_mc_samples": K, "cpus": os.cpu_count(), "skbal": skbal.__file__,
                  "load_average_before": os.getloadavg(), "configs": {}}
        for config in args.configs.split(","):
            print(f"running {config} ...", file=sys.stderr, flush=True)
            env = dict(os.environ)
            if config == "memory-1thread":  # the thread settings Dask gives its workers
                env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
            done = subprocess.run(
                [sys.executable, __file__, "--child", config, "--net", net_path, "--rows", str(args.rows),
                 "--repeats", str(args.repeats)],
                capture_output=True, text=True, env=env,
            )
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode or not lines:
                sys.exit(f"{config} failed:\n{done.stderr[-4000:]}")
            report["configs"][config] = json.loads(lines[-1][len("RESULT "):])
        report["load_average_after"] = os.getloadavg()

    reference = {}
    print(f"\nskbal from {report['skbal']}")
    print(f"{args.rows:,} rows, K={K}, {os.cpu_count()} CPUs, load average before/after: "
          f"{report['load_average_before'][0]:.1f} / {report['load_average_after'][0]:.1f}\n")
    print(f"{'configuration':<14} {'strategy':<31} {'rows/s':>9} {'seconds':>8}  {'(all repeats)':<18}"
          "  per process: RSS before -> peak (MiB)")
    for config, results in report["configs"].items():
        for result in results:
            if config == "memory-whole":  # other mask streams (one for the whole pool): not compared
                same = True
            else:
                same = reference.setdefault(result["strategy"], result["indices"]) == result["indices"]
            result["same_indices_as_first"] = same
            memory = ", ".join(
                f"{name} {stats['rss_before_mib']:.0f} -> {stats['rss_peak_mib']:.0f}"
                for name, stats in result["processes"].items()
            )
            best = min(result["seconds"])
            repeats = "/".join(f"{t:.0f}" for t in result["seconds"])
            print(f"{config:<14} {result['strategy']:<31} {args.rows / best:>9,.0f} {best:>8.1f}  {repeats:<18}"
                  f"  {memory}{'' if same else '  (DIFFERENT INDICES)'}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    if not all(r["same_indices_as_first"] for results in report["configs"].values() for r in results):
        sys.exit("configurations selected different indices")


if __name__ == "__main__":
    main()
