#!/usr/bin/python3
"""Train a small denoising encoder-decoder on Fashion-MNIST and export it to ONNX.

This produces Octet's bundled dense-regression model (image in, image out):

    models/fashion_mnist_denoise.onnx     ONNX opset 13, input "input" 1x1x28x28
                                          noisy float32 image in [0,1], output
                                          "output" 1x1x28x28 denoised image in [0,1]
    models/fashion_mnist_denoise.json     metadata: MAE, abs_rel, PSNR of the model
                                          and of the noisy input, seed, sigma, ...
    tests/fixtures/denoise_noisy16.npy    float32 (16,1,28,28): the first 16 images
                                          of the deterministic noisy test set
    tests/fixtures/denoise_output16.npy   float32 (16,1,28,28): PyTorch outputs on them

Usage (from the repository root; needs Debian's Python with torch + onnx):

    nice -n 19 /usr/bin/python3 tools/models/train_fashion_mnist_denoise.py --epochs 12 --seed 0

Options:
    --epochs N        training epochs (OneCycle LR schedule over all of them)
    --seed S          RNG seed for torch / numpy / random and the training noise (default 0)
    --noise-seed S    splitmix64 seed of the deterministic noisy test set (default 2026)
    --sigma X         noise standard deviation, training and test (default 0.2)
    --out-dir DIR     output root (default: repository root), files go to
                      DIR/models/... and DIR/tests/fixtures/...
    --data-dir DIR    Fashion-MNIST IDX .gz files (default /usr/share/datasets/fashion-mnist)
    --threads N       torch intra-op threads (default 2)
    --train-limit N   train on the first N images only (smoke tests; default all)

Noise: training adds torch.randn * sigma to the clean train images and clamps
to [0,1]; evaluation uses the deterministic test set of fashion_mnist_noise.py
(splitmix64 + Box-Muller, same distribution), which Octet's C++ data reader
reproduces bit for bit.

Architecture (widths 16/32/64; FastDepth-style depthwise-separable blocks, as
mobile depth and denoising networks that target NPUs are built; BatchNorm kept
in the ONNX graph for Octet's folding pass):
    sep(cin, cout, s) = depthwise Conv3x3/s(cin) - BN - ReLU - Conv1x1(cin->cout) - BN - ReLU
    enc0: Conv3x3(1->16) - BN - ReLU - sep(16, 16)                          28x28  = e0
    enc1: sep(16, 32, 2) - sep(32, 32)                                      14x14  = e1
    enc2: sep(32, 64, 2) - sep(64, 64)                                       7x7
    dec1: Conv1x1(64->32) - BN - Upsample x2 (nearest) - Add e1 - sep(32, 32)   14x14
    dec0: Conv1x1(32->16) - BN - Upsample x2 (nearest) - Add e0 - sep(16, 16)   28x28
    out:  Conv3x3(16->1) - Add input - Clip(0, 1)
The network predicts a correction added to its input (residual learning, as
in DnCNN); the 1x1 projections are linear so the skip Adds see signed
decoder features. After BatchNorm folding the depthwise layers' channels
differ in range by orders of magnitude: the case per-tensor NPUs get wrong.
Exported ops: Conv, BatchNormalization, Relu, Resize, Add, Clip.
"""

import argparse
import json
import os
import sys
import time

# libgomp's default spin-waiting makes two torch threads crawl when the cores
# are shared with other jobs; passive waiting must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from fashion_mnist_common import (  # noqa: E402
    DEFAULT_DATA_DIR, REPO_ROOT, check_onnx, export_onnx, images_path, load_onnx_weights_into,
    read_idx_images, save_npy, set_seed, sha256_file, to_unit_tensor)
from fashion_mnist_noise import (  # noqa: E402
    DEFAULT_SEED, DEFAULT_SIGMA, noisy_images, noisy_pixel_scalar)

MODEL_NAME = "fashion_mnist_denoise"
WIDTHS = (16, 32, 64)
# Pixels with a darker clean value are left out of abs_rel (relative error
# explodes on the black background).
ABS_REL_MIN_TARGET = 0.05


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------

def conv_bn(cin, cout, kernel, stride=1, groups=1, relu=True):
    layers = [nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return layers


def separable(cin, cout, stride=1):
    """Depthwise 3x3 (stride s) - BN - ReLU - pointwise 1x1 - BN - ReLU, as in MobileNet/FastDepth."""
    return conv_bn(cin, cin, 3, stride, groups=cin) + conv_bn(cin, cout, 1)


class FashionDenoiser(nn.Module):
    def __init__(self, widths=WIDTHS):
        super().__init__()
        w0, w1, w2 = widths
        self.enc0 = nn.Sequential(*conv_bn(1, w0, 3), *separable(w0, w0))
        self.enc1 = nn.Sequential(*separable(w0, w1, 2), *separable(w1, w1))
        self.enc2 = nn.Sequential(*separable(w1, w2, 2), *separable(w2, w2))
        self.proj1 = nn.Sequential(*conv_bn(w2, w1, 1, relu=False))
        self.dec1 = nn.Sequential(*separable(w1, w1))
        self.proj0 = nn.Sequential(*conv_bn(w1, w0, 1, relu=False))
        self.dec0 = nn.Sequential(*separable(w0, w0))
        self.out = nn.Conv2d(w0, 1, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        # Start as the identity on the noisy input (zero correction).
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        d1 = self.dec1(self.up(self.proj1(e2)) + e1)
        d0 = self.dec0(self.up(self.proj0(d1)) + e0)
        return torch.clamp(x + self.out(d0), 0.0, 1.0)


# ----------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------

def image_metrics(pred, target):
    """MAE, abs_rel (target > 0.05) and PSNR (peak 1, MSE over all pixels), in float64."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    err = np.abs(pred - target)
    mask = target > ABS_REL_MIN_TARGET
    mse = float(np.mean(err * err))
    return {
        "mae": float(np.mean(err)),
        "abs_rel": float(np.mean(err[mask] / target[mask])),
        "psnr_db": float(10.0 * np.log10(1.0 / mse)),
    }


@torch.no_grad()
def predict(model, x, batch=500):
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, x.shape[0], batch)])


def rounded(metrics):
    return {k: round(v, 6) for k, v in metrics.items()}


def check_fixture_noise(images_u8, noisy, seed, sigma, count=16):
    """The vectorised generator must match the literal scalar definition on the fixture images."""
    flat = images_u8[:count].reshape(-1)
    got = noisy[:count].reshape(-1)
    for p in range(flat.size):
        if noisy_pixel_scalar(int(flat[p]), seed, p, sigma) != got[p]:
            raise RuntimeError("noise generator disagrees with its definition at pixel %d" % p)


ALLOWED_OPS = {"Conv", "BatchNormalization", "Relu", "Add", "Resize", "Clip"}


def verify_onnx(path):
    """Op set, Clip(0,1), Resize attributes; returns (op counts, Resize attributes)."""
    import onnx
    from onnx import helper, numpy_helper
    ops = check_onnx(path, ALLOWED_OPS, "output", [1, 1, 28, 28])
    for op in ("Resize", "Add", "Clip"):
        if op not in ops:
            raise RuntimeError("exported graph has no %s" % op)
    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    resize_attrs = None
    for n in g.node:
        if n.op_type == "Clip":
            bounds = [float(inits[name]) for name in n.input[1:]]
            if bounds != [0.0, 1.0]:
                raise RuntimeError("Clip %s has bounds %s, expected [0, 1]" % (n.name, bounds))
        if n.op_type == "Resize":
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
            scales = inits[n.input[2]].tolist() if len(n.input) > 2 and n.input[2] else None
            attrs["scales"] = scales
            if attrs.get("mode") != "nearest" or scales != [1.0, 1.0, 2.0, 2.0]:
                raise RuntimeError("Resize %s is not a 2x nearest upsample: %s" % (n.name, attrs))
            if resize_attrs not in (None, attrs):
                raise RuntimeError("Resize nodes differ: %s vs %s" % (resize_attrs, attrs))
            resize_attrs = attrs
    return ops, resize_attrs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise-seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--sigma", type=float, default=DEFAULT_SIGMA)
    ap.add_argument("--out-dir", default=REPO_ROOT)
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="OneCycle max LR (Adam)")
    ap.add_argument("--train-limit", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    xtr = to_unit_tensor(read_idx_images(images_path(args.data_dir, "train")))
    if args.train_limit:
        xtr = xtr[:args.train_limit]
    t0 = time.time()
    test_u8 = read_idx_images(images_path(args.data_dir, "t10k"))
    noisy_np, clean_np = noisy_images(test_u8, args.noise_seed, args.sigma)
    check_fixture_noise(test_u8, noisy_np, args.noise_seed, args.sigma)
    print("train %s, noisy test set %s (seed %d, sigma %g) in %.1fs"
          % (tuple(xtr.shape), noisy_np.shape, args.noise_seed, args.sigma, time.time() - t0),
          flush=True)
    xte = torch.from_numpy(noisy_np)
    baseline = image_metrics(noisy_np, clean_np)
    print("noisy input vs clean: %s" % rounded(baseline), flush=True)

    model = FashionDenoiser()
    nparams = sum(p.numel() for p in model.parameters())
    print("model widths=%s params=%d" % (WIDTHS, nparams), flush=True)

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    n = xtr.shape[0]
    steps_per_epoch = (n + args.batch_size - 1) // args.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.2, div_factor=10.0, final_div_factor=100.0)
    crit = nn.MSELoss()

    t_start = time.time()
    cpu_start = time.process_time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        tot_loss = 0.0
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            clean = xtr[idx]
            noise = torch.randn(clean.shape, generator=gen) * args.sigma
            noisy = torch.clamp(clean + noise, 0.0, 1.0)
            loss = crit(model(noisy), clean)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += loss.item() * idx.numel()
        t_train = time.time() - t0
        m = image_metrics(predict(model, xte).numpy(), clean_np)
        print("epoch %2d/%d  train_mse %.5f  test mae %.5f abs_rel %.4f psnr %.2f dB  "
              "lr %.5f  train %.1fs  total %.1fs"
              % (epoch, args.epochs, tot_loss / n, m["mae"], m["abs_rel"], m["psnr_db"],
                 sched.get_last_lr()[0], t_train, time.time() - t0), flush=True)
    train_seconds = time.time() - t_start
    train_cpu_seconds = time.process_time() - cpu_start

    # ---- export ----
    models_dir = os.path.join(args.out_dir, "models")
    fix_dir = os.path.join(args.out_dir, "tests", "fixtures")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(fix_dir, exist_ok=True)
    onnx_path = os.path.join(models_dir, MODEL_NAME + ".onnx")
    export_onnx(model, onnx_path, "output")
    ops, resize_attrs = verify_onnx(onnx_path)
    print("ONNX ops: %s" % ops)
    print("Resize: %s" % resize_attrs, flush=True)

    # ---- evaluate the exported weights in PyTorch ----
    ref = FashionDenoiser()
    matched, ninit = load_onnx_weights_into(ref, onnx_path)
    print("loaded %d/%d ONNX initializers back into PyTorch model" % (matched, ninit))
    pred = predict(ref, xte)
    maxdiff = (pred - predict(model, xte)).abs().max().item()
    print("max |output diff| trained vs re-loaded: %.3g" % maxdiff)
    if maxdiff > 1e-5:
        raise RuntimeError("exported weights do not reproduce trained model")
    metrics = image_metrics(pred.numpy(), clean_np)
    print("exported model vs clean: %s" % rounded(metrics), flush=True)

    # ---- fixtures ----
    save_npy(os.path.join(fix_dir, "denoise_noisy16.npy"), noisy_np[:16], "<f4")
    save_npy(os.path.join(fix_dir, "denoise_output16.npy"), pred[:16].numpy(), "<f4")

    sha = sha256_file(onnx_path)
    meta = {
        "model": MODEL_NAME,
        "description": "FastDepth-style denoising encoder-decoder (widths %s, depthwise-separable "
                       "blocks with BatchNorm, stride-2 depthwise down, nearest 2x Resize up, skip Adds, input + correction, Clip(0,1)) on "
                       "Fashion-MNIST; input/output 1x1x28x28 float32 in [0,1] (NCHW)"
                       % "/".join(str(w) for w in WIDTHS),
        "input": {"name": "input", "shape": [1, 1, 28, 28], "dtype": "float32",
                  "range": [0.0, 1.0]},
        "output": {"name": "output", "shape": [1, 1, 28, 28], "dtype": "float32",
                   "range": [0.0, 1.0]},
        "test_noise": {"generator": "splitmix64 + Box-Muller (models/README.md)",
                       "seed": args.noise_seed, "sigma": args.sigma,
                       "images": "t10k, all, in file order"},
        "test_samples": int(xte.shape[0]),
        "abs_rel_min_target": ABS_REL_MIN_TARGET,
        "pytorch": rounded(metrics),
        "noisy_input": rounded(baseline),
        "resize": resize_attrs,
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "max_lr": args.lr,
        "params": nparams,
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "threads": args.threads,
        "torch_version": torch.__version__,
        "opset": 13,
        "onnx_ops": ops,
        "onnx_bytes": os.path.getsize(onnx_path),
        "onnx_sha256": sha,
        "command": "nice -n 19 /usr/bin/python3 tools/models/train_fashion_mnist_denoise.py "
                   "--epochs %d --seed %d --noise-seed %d --sigma %g"
                   % (args.epochs, args.seed, args.noise_seed, args.sigma),
    }
    with open(os.path.join(models_dir, MODEL_NAME + ".json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("wrote %s (%d bytes, sha256 %s)" % (onnx_path, os.path.getsize(onnx_path), sha))
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
