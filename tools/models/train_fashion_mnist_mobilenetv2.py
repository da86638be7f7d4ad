#!/usr/bin/python3
"""Train a small MobileNetV2 on Fashion-MNIST and export it to ONNX.

This produces the bundled depthwise-convolution model of Octet:

    models/fashion_mnist_mobilenetv2.onnx   ONNX opset 13, input "input" 1x1x28x28
                                            float32 in [0,1], output "logits" 1x10
    models/fashion_mnist_mobilenetv2.json   metadata (PyTorch top-1/top-5, seed, ...)

Usage (from the repository root; needs Debian's Python with torch + onnx):

    nice -n 19 /usr/bin/python3 tools/models/train_fashion_mnist_mobilenetv2.py --epochs 10 --seed 0

Options:
    --epochs N      number of training epochs (OneCycle LR schedule over all of them)
    --seed S        RNG seed for torch / numpy / random (default 0)
    --out-dir DIR   output root (default: repository root), files go to DIR/models/
    --data-dir DIR  Fashion-MNIST IDX .gz files
                    (default /usr/share/datasets/fashion-mnist)
    --threads N     torch intra-op threads (default 2)
    --train-limit N train on the first N images only (smoke tests; default all)

Architecture (MobileNetV2 inverted residuals sized for 28x28 inputs; no
separate input normalization, the stem BN acts as it):
    stem:   Conv3x3(1->16, pad 1) - BN - ReLU6                           28x28
    blocks: InvertedResidual(expand t, out c, stride s), in order
            t=1 c=16 s=2  (no expand conv)                               14x14
            t=4 c=24 s=1, t=4 c=24 s=1 (+skip)                           14x14
            t=4 c=32 s=2, t=4 c=32 s=1 (+skip), t=4 c=32 s=1 (+skip)      7x7
            t=4 c=64 s=1, t=4 c=64 s=1 (+skip)                            7x7
    head:   Conv1x1(64->256) - BN - ReLU6 - GlobalAveragePool - Flatten - Linear(256->10)
InvertedResidual: [Conv1x1 expand - BN - ReLU6] - depthwise Conv3x3 (groups =
channels, stride s) - BN - ReLU6 - Conv1x1 project - BN (linear bottleneck, no
activation), + input when s == 1 and the channel counts match.

The first block downsamples (unlike ImageNet MobileNetV2, whose first stride
is in the stem) so that only the stem and one depthwise conv run at 28x28: on
two shared CPU cores that halves training time for about the same accuracy.
ReLU6 exports as Clip(0, 6); BatchNormalization nodes are kept in the ONNX
graph (see fashion_mnist_common.export_onnx) for Octet's BN-folding pass.
"""

import argparse
import json
import os
import sys
import time

# libgomp's default spin-waiting makes two torch threads crawl when the cores
# are shared with other jobs; passive waiting must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from fashion_mnist_common import (  # noqa: E402
    DEFAULT_DATA_DIR, evaluate_classifier, REPO_ROOT, augment, check_onnx, export_onnx, load_onnx_weights_into,
    load_split, set_seed, sha256_file)

MODEL_NAME = "fashion_mnist_mobilenetv2"
CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
STEM_CHANNELS = 16
# (expansion t, output channels c, stride s) of each inverted residual block.
BLOCKS = [
    (1, 16, 2),
    (4, 24, 1), (4, 24, 1),
    (4, 32, 2), (4, 32, 1), (4, 32, 1),
    (4, 64, 1), (4, 64, 1),
]
HEAD_CHANNELS = 256


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------

def conv_bn(cin, cout, kernel, stride=1, groups=1, relu6=True):
    layers = [nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2,
                        groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if relu6:
        layers.append(nn.ReLU6(inplace=True))
    return layers


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        layers = []
        if expansion != 1:
            layers += conv_bn(cin, hidden, 1)
        layers += conv_bn(hidden, hidden, 3, stride=stride, groups=hidden)
        layers += conv_bn(hidden, cout, 1, relu6=False)
        self.conv = nn.Sequential(*layers)
        self.use_skip = stride == 1 and cin == cout

    def forward(self, x):
        out = self.conv(x)
        return x + out if self.use_skip else out


class FashionMobileNetV2(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(1, STEM_CHANNELS, 3))
        blocks = []
        cin = STEM_CHANNELS
        for t, c, s in BLOCKS:
            blocks.append(InvertedResidual(cin, c, s, t))
            cin = c
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(*conv_bn(cin, HEAD_CHANNELS, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(HEAD_CHANNELS, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)
        # Residual branches start as identity (zero-init of their last BN scale).
        for m in self.modules():
            if isinstance(m, InvertedResidual) and m.use_skip:
                nn.init.zeros_(m.conv[-1].weight)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(self.flatten(self.pool(x)))


# ----------------------------------------------------------------------------
# Train / eval
# ----------------------------------------------------------------------------

ALLOWED_OPS = {"Conv", "BatchNormalization", "Clip", "Add", "GlobalAveragePool",
               "Flatten", "Gemm"}


def verify_onnx(path):
    import onnx
    from onnx import numpy_helper
    ops = check_onnx(path, ALLOWED_OPS, "logits", [1, 10])
    for op in ("BatchNormalization", "Clip", "Add", "GlobalAveragePool"):
        if op not in ops:
            raise RuntimeError("exported graph has no %s" % op)
    g = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    if not any(n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
               for n in g.node):
        raise RuntimeError("exported graph has no depthwise (grouped) Conv")
    for n in g.node:
        if n.op_type == "Clip":
            bounds = [float(inits[name]) for name in n.input[1:]]
            if bounds != [0.0, 6.0]:
                raise RuntimeError("Clip %s has bounds %s, expected ReLU6's [0, 6]"
                                   % (n.name, bounds))
    return ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-dir", default=REPO_ROOT)
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.2, help="OneCycle max LR")
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--train-limit", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    xtr, ytr = load_split(args.data_dir, "train")
    xte, yte = load_split(args.data_dir, "t10k")
    if args.train_limit:
        xtr, ytr = xtr[:args.train_limit], ytr[:args.train_limit]
    print("train %s test %s" % (tuple(xtr.shape), tuple(xte.shape)), flush=True)

    model = FashionMobileNetV2()
    nparams = sum(p.numel() for p in model.parameters())
    print("model blocks=%s params=%d" % (BLOCKS, nparams), flush=True)
    # Channels-last makes PyTorch's CPU depthwise convolutions and BN about
    # 1.5x faster; results stay deterministic.
    model = model.to(memory_format=torch.channels_last)

    # No weight decay on BN / bias parameters.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": args.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, momentum=0.9, nesterov=True)
    n = xtr.shape[0]
    steps_per_epoch = (n + args.batch_size - 1) // args.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.25, div_factor=10.0, final_div_factor=100.0)
    crit = nn.CrossEntropyLoss()

    t_start = time.time()
    cpu_start = time.process_time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        tot_loss = 0.0
        correct = 0
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            xb = augment(xtr[idx], gen).contiguous(memory_format=torch.channels_last)
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
        acc1, acc5, _ = evaluate_classifier(model, xte.contiguous(memory_format=torch.channels_last), yte)
        print("epoch %2d/%d  loss %.4f  train_acc %.4f  test_top1 %.4f  test_top5 %.4f  "
              "lr %.4f  train %.1fs  total %.1fs"
              % (epoch, args.epochs, tot_loss / n, correct / n, acc1, acc5,
                 sched.get_last_lr()[0], t_train, time.time() - t0), flush=True)
    train_seconds = time.time() - t_start
    train_cpu_seconds = time.process_time() - cpu_start
    model = model.to(memory_format=torch.contiguous_format)

    # ---- export ----
    models_dir = os.path.join(args.out_dir, "models")
    os.makedirs(models_dir, exist_ok=True)
    onnx_path = os.path.join(models_dir, MODEL_NAME + ".onnx")
    export_onnx(model, onnx_path, "logits")
    ops = verify_onnx(onnx_path)
    print("ONNX ops: %s" % ops, flush=True)

    # ---- evaluate the exported weights in PyTorch ----
    ref = FashionMobileNetV2()
    matched, ninit = load_onnx_weights_into(ref, onnx_path)
    print("loaded %d/%d ONNX initializers back into PyTorch model" % (matched, ninit))
    acc1, acc5, logits = evaluate_classifier(ref, xte, yte)
    print("exported model: PyTorch eval top1 %.4f top5 %.4f" % (acc1, acc5), flush=True)
    _, _, logits_trained = evaluate_classifier(model, xte, yte)
    maxdiff = (logits - logits_trained).abs().max().item()
    print("max |logit diff| trained vs re-loaded: %.3g" % maxdiff)
    if maxdiff > 1e-4:
        raise RuntimeError("exported weights do not reproduce trained model")

    sha = sha256_file(onnx_path)
    meta = {
        "model": MODEL_NAME,
        "description": "MobileNetV2-style (stem 16, inverted residual blocks %s as "
                       "(expand, channels, stride), head 256) on Fashion-MNIST; "
                       "input 1x1x28x28 float32 pixels/255 (NCHW), output 10 logits"
                       % [list(b) for b in BLOCKS],
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
        "weight_decay": args.weight_decay,
        "params": nparams,
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "threads": args.threads,
        "torch_version": torch.__version__,
        "opset": 13,
        "onnx_ops": ops,
        "onnx_bytes": os.path.getsize(onnx_path),
        "onnx_sha256": sha,
        "command": "nice -n 19 /usr/bin/python3 tools/models/train_fashion_mnist_mobilenetv2.py "
                   "--epochs %d --seed %d" % (args.epochs, args.seed),
    }
    with open(os.path.join(models_dir, MODEL_NAME + ".json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("wrote %s (%d bytes, sha256 %s)" % (onnx_path, os.path.getsize(onnx_path), sha))
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
