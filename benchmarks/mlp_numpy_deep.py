"""The numpy peer of ../shared/peers/mlp_numpy.py, generalised to any stack of hidden layers and to float64.

The shared peer trains 784-H-10 in float32 only; issue 14's float64 and wide (784-1024-1024-10) workloads need the same
textbook program with two more options. Everything else is that program's: ReLU hidden layers, softmax and
cross-entropy, plain mini-batch SGD, PyTorch's nn.Linear initialisation drawn in the same order (W1, b1, W2, b2, ...),
the same warm-up on a throw-away model, the same timing and RESULT line. With `--layers H` and `--dtype float32` it
draws the same numbers and does the same arithmetic as the shared peer (compare.sh's `--check-peer` shows it).

usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 mlp_numpy_deep.py \
           [--layers 1024,1024] [--dtype float32|float64] [--batch 128] [--epochs 3]
"""
import argparse, json, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")
import numpy as np

# The shared loader, beside the shared peer (FMNIST_DIR selects the data as it does there).
PEERS = os.environ.get("PEERS_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers"))
sys.path.insert(0, PEERS)
import fmnist

p = argparse.ArgumentParser()
p.add_argument("--layers", default=None, help="hidden layer widths, comma-separated (default: --hidden)")
p.add_argument("--hidden", type=int, default=128)
p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
p.add_argument("--batch", type=int, default=64)
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--seed", type=int, default=1234)
p.add_argument("--warmup-steps", type=int, default=300)
a = p.parse_args()

dtype = np.dtype(a.dtype).type
hidden = [int(h) for h in a.layers.split(",")] if a.layers else [a.hidden]
Xtr, ytr, Xte, yte = fmnist.load(dtype)
N, D = Xtr.shape
K = 10
widths = [D] + hidden + [K]
lr = dtype(a.lr)

def init(rng):
    # PyTorch nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, layer by layer.
    P = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        P.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
        P.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    return P

def forward(P, X):
    """Pre-activations z of every layer and the inputs a of every layer (a[0] = X)."""
    a_s, z_s = [X], []
    for i in range(0, len(P), 2):
        z = np.dot(a_s[-1], P[i]) + P[i + 1]
        z_s.append(z)
        if i + 2 < len(P):
            a_s.append(np.maximum(z, 0))
    return z_s, a_s

def step(P, X, y):
    z_s, a_s = forward(P, X)
    z = z_s[-1]
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    dz = e / e.sum(axis=1, keepdims=True)
    B = X.shape[0]
    dz[np.arange(B), y] -= 1
    dz /= B
    grads = [None] * len(P)
    for layer in range(len(P) // 2 - 1, -1, -1):
        grads[2 * layer] = np.dot(a_s[layer].T, dz)
        grads[2 * layer + 1] = dz.sum(axis=0)
        if layer > 0:
            dz = np.dot(dz, P[2 * layer].T) * (z_s[layer - 1] > 0)
    for w, g in zip(P, grads):
        w -= lr * g

def epoch(P, rng, max_steps=None):
    perm = rng.permutation(N)
    for s, i in enumerate(range(0, N, a.batch)):
        if max_steps is not None and s >= max_steps:
            break
        idx = perm[i:i + a.batch]
        step(P, Xtr[idx], ytr[idx])

def accuracy(P):
    return float((forward(P, Xte)[0][-1].argmax(axis=1) == yte).mean())

# warm-up on a throw-away model
epoch(init(np.random.default_rng(999)), np.random.default_rng(999), a.warmup_steps)

rng = np.random.default_rng(a.seed)
P = init(rng)
times = []
for ep in range(a.epochs):
    t0 = time.perf_counter(); epoch(P, rng); t = time.perf_counter() - t0
    times.append(t)
    print(f"epoch {ep+1}: {t:.3f} s  {N/t:.0f} samples/s", flush=True)
acc = accuracy(P)
med = float(np.median(times))
print("RESULT " + json.dumps(dict(peer="numpy", layers=hidden, dtype=a.dtype, batch=a.batch, epoch_s=times,
      median_epoch_s=med, samples_per_s=N / med, test_acc=acc, threads=int(os.environ["OPENBLAS_NUM_THREADS"]),
      numpy=np.__version__)))
