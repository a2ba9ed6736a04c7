"""The training-stack workloads of ``tcli bench``: an MLP train step (SGD, Adam), a DataLoader epoch, iris.py.

Each library trains the same 784-256-10 model from the same initial weights on the same batch; numpy is the
same step written by hand (forward, cross-entropy, backward, SGD update).
"""

from __future__ import annotations

import os

from .bench import Libs, Target, Workload, _python_c

BATCH, IN, HIDDEN, CLASSES = 128, 784, 256, 10
SGD_LR = 0.01


def _mlp_data(libs: Libs):
    np = libs.np
    rng = np.random.default_rng(5)
    x = libs.data(BATCH, IN, seed=6)
    y = rng.integers(0, CLASSES, BATCH)
    bound1, bound2 = 1 / np.sqrt(IN), 1 / np.sqrt(HIDDEN)
    params = [rng.uniform(-bound1, bound1, (HIDDEN, IN)), rng.uniform(-bound1, bound1, HIDDEN),
              rng.uniform(-bound2, bound2, (CLASSES, HIDDEN)), rng.uniform(-bound2, bound2, CLASSES)]
    return x, y, [p.astype(np.float32) for p in params]


def _mlp_step(libs: Libs, optimizer: str):
    x, y, params = _mlp_data(libs)

    def make(mod):
        model = mod.nn.Sequential(mod.nn.Linear(IN, HIDDEN), mod.nn.ReLU(), mod.nn.Linear(HIDDEN, CLASSES))
        with mod.no_grad():
            for p, value in zip(model.parameters(), params):
                p.copy_(mod.from_numpy(value.copy()))
        opt = mod.optim.SGD(model.parameters(), lr=SGD_LR) if optimizer == "sgd" else \
            mod.optim.Adam(model.parameters(), lr=1e-3)
        xb, yb = mod.from_numpy(x.copy()), mod.from_numpy(y.copy())
        cross_entropy = mod.nn.functional.cross_entropy

        def step():
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()

        return step

    def numpy_sgd():
        np = libs.np
        w1, b1, w2, b2 = (p.copy() for p in params)
        rows = np.arange(BATCH)

        def step():
            h = x @ w1.T + b1
            a = np.maximum(h, 0)
            logits = a @ w2.T + b2
            shifted = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            p = e / e.sum(axis=1, keepdims=True)
            -np.log(p[rows, y]).mean()
            p[rows, y] -= 1
            p /= BATCH
            gw2, gb2 = p.T @ a, p.sum(0)
            ga = p @ w2
            ga[h <= 0] = 0
            gw1, gb1 = ga.T @ x, ga.sum(0)
            for w, g in ((w1, gw1), (b1, gb1), (w2, gw2), (b2, gb2)):
                w -= SGD_LR * g

        return step

    return libs.build(tcli=lambda: make(libs.tcli), numpy=numpy_sgd if optimizer == "sgd" else None,
                      torch=lambda: make(libs.torch))


def _dataloader_epoch(libs: Libs):
    images = libs.data(20000, IN, seed=7)
    labels = libs.np.random.default_rng(8).integers(0, CLASSES, 20000)

    def make(mod):
        data = mod.utils.data
        dataset = data.TensorDataset(mod.from_numpy(images.copy()), mod.from_numpy(labels.copy()))
        loader = data.DataLoader(dataset, batch_size=BATCH, shuffle=True)

        def epoch():
            for _ in loader:
                pass

        return epoch

    return libs.build(tcli=lambda: make(libs.tcli), torch=lambda: make(libs.torch))


def iris_script_path() -> str | None:
    path = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "iris.py")
    return os.path.abspath(path) if os.path.exists(path) else None


_AS_TCLI = "import runpy; from tcli.cli.alias import install; install(); runpy.run_path({!r}, " \
           "run_name='__main__')"


def _iris(libs: Libs):
    path = iris_script_path()

    def primed():
        if path is None:
            raise FileNotFoundError("scripts/iris.py is not next to this tcli (run the bench from a source checkout)")
        run = _python_c(_AS_TCLI.format(path))
        run()  # loads (or compiles) the kernels the script needs
        return run

    return libs.build(tcli=primed)


def _run_overhead(libs: Libs):
    """The tutorial step with tcli run's watcher installed (as under ``tcli run``, a report every 100 steps)
    against the same step without it."""
    from .bench import LR

    def make(watched: bool):
        mod = libs.tcli
        x, y = mod.from_numpy(libs.data(64, 1000, seed=1)), mod.from_numpy(libs.data(64, 10, seed=2))
        w1 = mod.from_numpy(libs.data(1000, 100, seed=3)).requires_grad_()
        w2 = mod.from_numpy(libs.data(100, 10, seed=4)).requires_grad_()
        watcher = None
        if watched:
            from .run_views import View
            from .watch import Watcher
            watcher = Watcher([View()], every="100")

        def step():
            mod.monitor.WATCHER = watcher  # only while this candidate runs: the rounds interleave candidates
            try:
                loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
                loss.backward()
                with mod.no_grad():
                    w1.sub_(LR * w1.grad)
                    w2.sub_(LR * w2.grad)
                    w1.grad.zero_()
                    w2.grad.zero_()
            finally:
                mod.monitor.WATCHER = None

        return step

    return libs.build(tcli=lambda: make(True), tcli_plain=lambda: make(False))


def workloads() -> list[Workload]:
    return [
        Workload("mlp_sgd_step", lambda libs: _mlp_step(libs, "sgd"), Target(1.0),
                 note="784-256-10, batch 128, ReLU, F.cross_entropy"),
        Workload("mlp_adam_step", lambda libs: _mlp_step(libs, "adam"), Target(1.0)),
        Workload("dataloader_epoch", _dataloader_epoch, Target(0.5), rounds=(5, 3),
                 note="TensorDataset 20000x784, batch 128, shuffle"),
        Workload("run_overhead", _run_overhead, Target(1.02, against="tcli_plain"),
                 note="the tutorial step watched by tcli run vs not"),
        Workload("iris_script", _iris, Target(3.0, absolute=True), subprocess=True, rounds=(3, 1), warmup=False,
                 note="scripts/iris.py as tcli, warm kernel cache"),
    ]

