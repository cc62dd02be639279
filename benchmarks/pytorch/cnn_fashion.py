#!/usr/bin/python3
"""Fashion-MNIST CNN, softmax cross-entropy, PyTorch (the reference definition for `backprop train --arch cnn`).
Usage: cnn_fashion.py {sgd|adam} EPOCHS [threads] [device]   (device: cpu (default) or cuda; data dir from $FASHION_MNIST_DIR)
A copy of the project's reference run (../shared/bench/cnn_fashion.py) that also prints a `summary:` line as
mlp_fashion.py does, for side_by_side.sh (ARCH=cnn), and takes two settings from the environment: SEED (default 0)
for both seeds below, as `train --seed` sets both, and DTYPE=float64 to train in double precision after the float32
initialization (`model.double()`), the run CnnEpochs --dtype float64 mirrors.
 - model (state_dict names in brackets): Conv2d(1,32,3,padding=1) [0.*], ReLU, MaxPool2d(2), Conv2d(32,64,3,padding=1) [3.*],
   ReLU, MaxPool2d(2), Flatten, Linear(3136,128) [7.*], ReLU, Linear(128,10) [9.*]; 421,642 parameters; NCHW input [B,1,28,28]
 - data: IDX .gz, images /255 -> float32 in [0,1]; 60000 train / 10000 test
 - SGD lr 0.05 momentum 0.9 (or Adam lr 1e-3 defaults), batch 128, last partial batch kept (469 steps/epoch)
 - reshuffled every epoch with torch.randperm from a generator seeded with SEED; torch.manual_seed(SEED) before default init
 - timed region per epoch = shuffle + batch gather + forward + loss + backward + step (data loading/eval NOT timed)
 - on cuda: the whole data set lives on the GPU, TF32 is off, cuDNN deterministic, each epoch ends with a synchronize"""
import gzip, os, sys, time, statistics
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # else OpenMP spins against OpenBLAS on small machines
import numpy as np, torch, torch.nn as nn
SEED = int(os.environ.get("SEED", "0"))
DTYPE = {"float32": torch.float32, "float64": torch.float64}[os.environ.get("DTYPE", "float32")]

def idx(path):
    with gzip.open(path, "rb") as f: b = f.read()
    ndim = b[3]; dims = [int.from_bytes(b[4 + 4*i:8 + 4*i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4*ndim).reshape(dims)

opt_name = sys.argv[1]; epochs = int(sys.argv[2]); threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
dev = torch.device(sys.argv[4] if len(sys.argv) > 4 else "cpu")
torch.set_num_threads(threads)
torch.backends.cuda.matmul.allow_tf32 = False; torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.deterministic = True; torch.backends.cudnn.benchmark = False
D = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist") + "/"
sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
t0 = time.perf_counter()
Xtr = torch.from_numpy(idx(D + "train-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
Ytr = torch.from_numpy(idx(D + "train-labels-idx1-ubyte.gz").astype(np.int64))
Xte = torch.from_numpy(idx(D + "t10k-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
Yte = torch.from_numpy(idx(D + "t10k-labels-idx1-ubyte.gz").astype(np.int64))
Xtr, Ytr, Xte, Yte = Xtr.to(dev, DTYPE), Ytr.to(dev), Xte.to(dev, DTYPE), Yte.to(dev)
print(f"# torch {torch.__version__} device={dev} threads={torch.get_num_threads()} opt={opt_name} epochs={epochs} "
      f"seed={SEED} dtype={str(DTYPE)[6:]} "
      f"train={tuple(Xtr.shape)} test={tuple(Xte.shape)} load_s={time.perf_counter()-t0:.2f} (not timed)")

torch.manual_seed(SEED)
model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev, DTYPE)
lossf = nn.CrossEntropyLoss()
opt = (torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if opt_name == "sgd"
       else torch.optim.Adam(model.parameters(), lr=1e-3))
gen = torch.Generator().manual_seed(SEED)
B, N = 128, Xtr.shape[0]

def evaluate(X, Y):
    model.eval(); loss = 0.0; correct = 0
    with torch.no_grad():
        for i in range(0, len(X), 1000):
            out = model(X[i:i + 1000]); loss += lossf(out, Y[i:i + 1000]).item() * len(out)
            correct += (out.argmax(1) == Y[i:i + 1000]).sum().item()
    return loss / len(X), correct / len(X)

print(f"{'epoch':>5} {'time_s':>7} {'samples/s':>10} {'mean_mb_loss':>12} {'test_loss':>9} {'test_acc':>8}")
times = []
for ep in range(1, epochs + 1):
    model.train()
    s = time.perf_counter()
    perm = torch.randperm(N, generator=gen).to(dev)
    tot = torch.zeros((), device=dev)
    for i in range(0, N, B):
        bi = perm[i:i + B]
        xb, yb = Xtr[bi], Ytr[bi]
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), yb)
        loss.backward()
        opt.step()
        tot += loss.detach() * len(bi)
    sync(); dt = time.perf_counter() - s; times.append(dt)
    tel, tea = evaluate(Xte, Yte)
    print(f"{ep:>5} {dt:>7.3f} {N/dt:>10.0f} {tot.item()/N:>12.4f} {tel:>9.4f} {tea:>8.4f}", flush=True)
if len(times) > 1:
    t = sorted(times[1:])
    print(f"# epoch time over epochs 2..{epochs}: min {t[0]:.3f} s  median {statistics.median(t):.3f} s  max {t[-1]:.3f} s  "
          f"-> median samples/s {N/statistics.median(t):.0f}")
    print(f"summary: impl=pytorch device={dev} threads={torch.get_num_threads()} optimizer={opt_name} "
          f"epochs={epochs} epochs_timed=2..{epochs} median_epoch_s={statistics.median(t):.4f} "
          f"median_samples_per_s={N / statistics.median(t):.0f} test_acc={tea:.4f}")
