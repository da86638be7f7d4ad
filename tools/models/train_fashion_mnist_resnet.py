#!/usr/bin/python3
"""Train a small CIFAR-style ResNet on Fashion-MNIST and export it to ONNX.

This produces the bundled model used by Octet's end-to-end tests:

    models/fashion_mnist_resnet.onnx    ONNX opset 13, input "input" 1x1x28x28
                                        float32 in [0,1], output "logits" 1x10
    models/fashion_mnist_resnet.json    metadata (PyTorch top-1/top-5, seed, ...)
    tests/fixtures/resnet_input16.npy   float32 (16,1,28,28): first 16 t10k images / 255
    tests/fixtures/resnet_logits16.npy  float32 (16,10): PyTorch eval-mode logits
    tests/fixtures/resnet_labels16.npy  int64 (16,): labels of those images

Usage (from the repository root; needs Debian's Python with torch + onnx):

    /usr/bin/python3 tools/models/train_fashion_mnist_resnet.py --epochs 12 --seed 0

(the bundled model was produced by exactly this command: 12 epochs, ~14 min,
PyTorch fp32 top-1 0.9337 on the 10k test set)

Options:
    --epochs N      number of training epochs (OneCycle LR schedule over all of them)
    --seed S        RNG seed for torch / numpy / random (default 0)
    --out-dir DIR   output root (default: repository root), files go to
                    DIR/models/... and DIR/tests/fixtures/...
    --data-dir DIR  Fashion-MNIST IDX .gz files
                    (default /usr/share/datasets/fashion-mnist)
    --threads N     torch intra-op threads (default 2)

Architecture (no separate input normalization: the stem BN acts as it):
    stem:    Conv3x3(1->16, pad 1, no bias) - BN - ReLU
    stage 1: 2 x BasicBlock(16), stride 1
    stage 2: 2 x BasicBlock(32), first block stride 2 with Conv1x1/2 + BN projection skip
    stage 3: 2 x BasicBlock(64), first block stride 2 with Conv1x1/2 + BN projection skip
    head:    AdaptiveAvgPool2d(1) - Flatten - Linear(64->10)   (logits, no softmax)

The exported ONNX keeps its BatchNormalization nodes (exported with
TrainingMode.PRESERVE on an eval-mode model, which skips the exporter's
Conv+BN fusion) so that the engine's own BN-folding pass is exercised.
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
    DEFAULT_DATA_DIR, evaluate_classifier, REPO_ROOT, augment, check_onnx, export_onnx, load_onnx_weights_into,
    load_split, save_npy, set_seed, sha256_file)

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------

def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """torchvision-style BasicBlock: conv-BN-ReLU-conv-BN (+skip), ReLU after add."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout),
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class FashionResNet(nn.Module):
    def __init__(self, widths=(16, 32, 64), blocks_per_stage=2, num_classes=10):
        super().__init__()
        c1 = widths[0]
        self.stem = nn.Sequential(conv3x3(1, c1), nn.BatchNorm2d(c1), nn.ReLU(inplace=True))
        layers = []
        cin = c1
        for i, w in enumerate(widths):
            for b in range(blocks_per_stage):
                stride = 2 if (i > 0 and b == 0) else 1
                layers.append(BasicBlock(cin, w, stride))
                cin = w
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero-init the last BN of each residual branch (standard ResNet trick).
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x):
        x = self.stem(x)
        x = self.body(x)
        x = self.flatten(self.pool(x))
        return self.fc(x)


# ----------------------------------------------------------------------------
# Train / eval
# ----------------------------------------------------------------------------

ALLOWED_OPS = {"Conv", "BatchNormalization", "Relu", "Add", "GlobalAveragePool",
               "Flatten", "Reshape", "Gemm"}


def verify_onnx(path):
    ops = check_onnx(path, ALLOWED_OPS, "logits", [1, 10])
    if ops.get("BatchNormalization", 0) == 0:
        raise RuntimeError("exported graph has no BatchNormalization nodes")
    if "GlobalAveragePool" not in ops:
        raise RuntimeError("exported graph has no GlobalAveragePool")
    return ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-dir", default=REPO_ROOT)
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.2, help="OneCycle max LR")
    ap.add_argument("--widths", default="16,32,64")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    xtr, ytr = load_split(args.data_dir, "train")
    xte, yte = load_split(args.data_dir, "t10k")
    print("train %s test %s" % (tuple(xtr.shape), tuple(xte.shape)), flush=True)

    widths = tuple(int(w) for w in args.widths.split(","))
    model = FashionResNet(widths=widths)
    nparams = sum(p.numel() for p in model.parameters())
    print("model widths=%s params=%d" % (widths, nparams), flush=True)

    # No weight decay on BN / bias parameters.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, momentum=0.9, nesterov=True)
    n = xtr.shape[0]
    steps_per_epoch = (n + args.batch_size - 1) // args.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.25, div_factor=10.0, final_div_factor=100.0)
    crit = nn.CrossEntropyLoss(label_smoothing=0.0)

    t_start = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        tot_loss = 0.0
        correct = 0
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            xb = augment(xtr[idx], gen)
            yb = ytr[idx]
            out = model(xb)
            loss = crit(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += loss.item() * idx.numel()
            correct += (out.argmax(1) == yb).sum().item()
        t_train = time.time() - t0
        acc1, acc5, _ = evaluate_classifier(model, xte, yte)
        print("epoch %2d/%d  loss %.4f  train_acc %.4f  test_top1 %.4f  test_top5 %.4f  "
              "lr %.4f  train %.1fs  total %.1fs"
              % (epoch, args.epochs, tot_loss / n, correct / n, acc1, acc5,
                 sched.get_last_lr()[0], t_train, time.time() - t0), flush=True)
    train_seconds = time.time() - t_start

    # ---- export ----
    models_dir = os.path.join(args.out_dir, "models")
    fix_dir = os.path.join(args.out_dir, "tests", "fixtures")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(fix_dir, exist_ok=True)
    onnx_path = os.path.join(models_dir, "fashion_mnist_resnet.onnx")
    model.eval()
    export_onnx(model, onnx_path, "logits")
    ops = verify_onnx(onnx_path)
    print("ONNX ops: %s" % ops, flush=True)

    # ---- evaluate the exported weights in PyTorch ----
    ref = FashionResNet(widths=widths)
    matched, ninit = load_onnx_weights_into(ref, onnx_path)
    print("loaded %d/%d ONNX initializers back into PyTorch model" % (matched, ninit))
    ref.eval()
    acc1, acc5, logits = evaluate_classifier(ref, xte, yte)
    print("exported model: PyTorch eval top1 %.4f top5 %.4f" % (acc1, acc5), flush=True)
    # Sanity: exported weights must reproduce the trained model exactly.
    _, _, logits_trained = evaluate_classifier(model, xte, yte)
    maxdiff = (logits - logits_trained).abs().max().item()
    print("max |logit diff| trained vs re-loaded: %.3g" % maxdiff)
    if maxdiff > 1e-4:
        raise RuntimeError("exported weights do not reproduce trained model")

    # ---- fixtures ----
    x16 = xte[:16].numpy().astype(np.float32)
    with torch.no_grad():
        l16 = ref(xte[:16]).numpy().astype(np.float32)
    y16 = yte[:16].numpy().astype(np.int64)
    save_npy(os.path.join(fix_dir, "resnet_input16.npy"), x16, "<f4")
    save_npy(os.path.join(fix_dir, "resnet_logits16.npy"), l16, "<f4")
    save_npy(os.path.join(fix_dir, "resnet_labels16.npy"), y16, "<i8")

    sha = sha256_file(onnx_path)
    meta = {
        "model": "fashion_mnist_resnet",
        "description": "ResNet (BasicBlock x2 per stage, widths %s) on Fashion-MNIST; "
                       "input 1x1x28x28 float32 pixels/255 (NCHW), output 10 logits"
                       % "/".join(str(w) for w in widths),
        "classes": CLASS_NAMES,
        "input": {"name": "input", "shape": [1, 1, 28, 28], "dtype": "float32",
                  "range": [0.0, 1.0]},
        "output": {"name": "logits", "shape": [1, 10], "dtype": "float32"},
        "pytorch_top1": round(acc1, 6),
        "pytorch_top5": round(acc5, 6),
        "test_samples": int(xte.shape[0]),
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "max_lr": args.lr,
        "params": nparams,
        "train_seconds": round(train_seconds, 1),
        "torch_version": torch.__version__,
        "opset": 13,
        "onnx_ops": ops,
        "onnx_sha256": sha,
        "command": "/usr/bin/python3 tools/models/train_fashion_mnist_resnet.py "
                   "--epochs %d --seed %d" % (args.epochs, args.seed),
    }
    with open(os.path.join(models_dir, "fashion_mnist_resnet.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("wrote %s (%d bytes, sha256 %s)" % (onnx_path, os.path.getsize(onnx_path), sha))
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
