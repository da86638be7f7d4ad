#!/usr/bin/python3
"""Export a randomly initialised torchvision model to ONNX for benchmarking.

No pretrained weights are downloaded (weights=None); parameters come from
torchvision's default initialisation under a fixed seed, so the output is
reproducible for a given torch/torchvision version. The models are meant for
speed benchmarks only (their predictions are meaningless).

Usage:

    /usr/bin/python3 tools/models/export_torchvision.py --model resnet18 -o /tmp/resnet18.onnx
    /usr/bin/python3 tools/models/export_torchvision.py --model resnet50 -o /tmp/resnet50.onnx
    /usr/bin/python3 tools/models/export_torchvision.py --model mobilenet_v2 -o /tmp/mobilenet_v2.onnx

Output: ONNX opset 13, input "input" float32 1x3x224x224 (static), output
"logits" float32 1x1000. The model is exported in eval mode; the exporter may
fold BatchNormalization into the preceding Conv, which is fine here.

After export the graph is tidied (unless --raw is given): the exporter
deduplicates bit-identical initializers (e.g. the all-zero folded Conv biases of
a freshly initialised model) and re-creates them through Identity nodes, and it
emits Clip's min/max as Constant nodes; both are turned into plain inline
initializers so the graph holds compute ops only.
"""

import argparse
import os
import random
import sys

import numpy as np
import torch
import torchvision

MODELS = {
    "resnet18": torchvision.models.resnet18,
    "resnet50": torchvision.models.resnet50,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
}


def tidy(m):
    """Inline Identity(initializer) and Constant nodes as initializers."""
    from onnx import numpy_helper
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    keep = []
    for n in g.node:
        if n.op_type == "Identity" and len(n.input) == 1 and n.input[0] in inits:
            t = type(inits[n.input[0]])()
            t.CopyFrom(inits[n.input[0]])
            t.name = n.output[0]
        elif (n.op_type == "Constant" and len(n.attribute) == 1
              and n.attribute[0].name == "value"):
            t = type(n.attribute[0].t)()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
        else:
            keep.append(n)
            continue
        g.initializer.append(t)
        inits[t.name] = t
    del g.node[:]
    g.node.extend(keep)


def main():
    ap = argparse.ArgumentParser(description="Export a random-init torchvision model to ONNX")
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("-o", "--output", required=True, help="output .onnx path")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--raw", action="store_true",
                    help="keep the exporter's Identity/Constant nodes as they are")
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)

    model = MODELS[args.model](weights=None)
    model.eval()
    dummy = torch.zeros(1, 3, 224, 224, dtype=torch.float32)
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, dummy, args.output,
            export_params=True,
            opset_version=13,
            input_names=["input"],
            output_names=["logits"],
            training=torch.onnx.TrainingMode.EVAL,
            do_constant_folding=True,
        )

    import onnx
    m = onnx.load(args.output)
    if not args.raw:
        tidy(m)
        onnx.save(m, args.output)
    onnx.checker.check_model(m)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("%s: %d bytes, %d nodes, ops %s"
          % (args.output, os.path.getsize(args.output), len(m.graph.node),
             dict(sorted(ops.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
