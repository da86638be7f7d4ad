"""Shared pieces of the Fashion-MNIST model scripts in this folder.

Data loading (Debian's IDX files), seeding, the ONNX export used for every
bundled model and the checks run on the exported file. The training scripts
import it as a sibling module (they are run as `python3 tools/models/X.py`, so
this folder is on sys.path).
"""

import gzip
import hashlib
import os
import random
import struct
import warnings

import numpy as np
import torch
import torch.nn.functional as F

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------

def read_idx_images(path):
    """uint8 array (N, rows, cols) from an IDX3 .gz file."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 0x00000803:
        raise ValueError("%s: bad IDX image magic 0x%08x" % (path, magic))
    arr = np.frombuffer(data, dtype=np.uint8, offset=16)
    if arr.size != n * rows * cols:
        raise ValueError("%s: size mismatch" % path)
    return arr.reshape(n, rows, cols)


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic != 0x00000801:
        raise ValueError("%s: bad IDX label magic 0x%08x" % (path, magic))
    arr = np.frombuffer(data, dtype=np.uint8, offset=8)
    if arr.size != n:
        raise ValueError("%s: size mismatch" % path)
    return arr.astype(np.int64)


def images_path(data_dir, prefix):
    return os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % prefix)


def to_unit_tensor(images_u8):
    """(N,28,28) uint8 -> float32 NCHW tensor of pixel/255 (the models' input)."""
    x = torch.from_numpy(images_u8.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    return x.contiguous()


def load_split(data_dir, prefix):
    """(images as float32 [N,1,28,28] in [0,1], int64 labels) of 'train' or 't10k'."""
    x = read_idx_images(images_path(data_dir, prefix))
    y = read_idx_labels(os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % prefix))
    assert x.shape[0] == y.shape[0]
    # No mean/std: normalization, where a model wants it, lives in its stem BN.
    return to_unit_tensor(x), torch.from_numpy(y)


def augment(x, gen, pad=2):
    """Random horizontal flip + random crop (28, zero padding `pad`) on a batch."""
    n, c, h, w = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h))          # n,h
    cols = (dx.view(n, 1) + torch.arange(w).view(1, w))          # n,w
    wp = w + 2 * pad
    idx = rows.view(n, h, 1) * wp + cols.view(n, 1, w)           # n,h,w
    flat = xp.reshape(n, c, -1)
    idx = idx.view(n, 1, h * w).expand(n, c, h * w)
    return torch.gather(flat, 2, idx).view(n, c, h, w)


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        torch.use_deterministic_algorithms(True)
    except Exception as e:  # pragma: no cover
        print("warning: deterministic algorithms unavailable: %s" % e)


# ----------------------------------------------------------------------------
# ONNX export and checks
# ----------------------------------------------------------------------------

def export_onnx(model, path, output_name):
    """Export `model` (eval mode) to ONNX opset 13 with one input "input" 1x1x28x28.

    TrainingMode.PRESERVE on an eval-mode model exports inference-mode BN
    (running statistics) but skips the eval-only peephole pass that would fuse
    Conv+BatchNormalization, so the BN nodes survive for Octet's own folding
    pass. Constant folding only merges constant subgraphs (e.g. Resize scales
    built by Concat, Clip bounds built by Cast); it never touches a node fed by
    an activation, so BN stays.
    """
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28, dtype=torch.float32)
    with warnings.catch_warnings():
        # Its advice (no constant folding with PRESERVE) is for models exported
        # in training mode; ours are in eval mode.
        warnings.filterwarnings("ignore", message="It is recommended that constant folding")
        # Emitted for Upsample's constant scales; check_onnx verifies the
        # exported shapes instead.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(
            model, dummy, path,
            export_params=True,
            opset_version=13,
            input_names=["input"],
            output_names=[output_name],
            training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=True,
        )
    inline_constants(path)


def inline_constants(path):
    """Turn `Identity(initializer)` and `Constant` nodes into inline initializers.

    The exporter deduplicates bit-identical parameters (e.g. all-zero BN biases)
    and re-creates the duplicates with Identity nodes, and it emits Clip bounds
    and Resize scales as Constant nodes; materialising both leaves a graph of
    compute ops only.
    """
    import onnx
    m = onnx.load(path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    keep = []
    for n in g.node:
        if n.op_type == "Identity" and len(n.input) == 1 and n.input[0] in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[n.input[0]])
        elif (n.op_type == "Constant" and len(n.attribute) == 1
              and n.attribute[0].name == "value"):
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
        else:
            keep.append(n)
            continue
        t.name = n.output[0]
        g.initializer.append(t)
        inits[t.name] = t
    if len(keep) != len(g.node):
        del g.node[:]
        g.node.extend(keep)
        onnx.save(m, path)


def op_counts(graph):
    """{op_type: count} in node order of first appearance."""
    ops = {}
    for n in graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return ops


def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in value_info.type.tensor_type.shape.dim]


def check_onnx(path, allowed_ops, output_name, output_shape):
    """onnx.checker, allowed op set, inline weights, static I/O; returns op counts."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    onnx.checker.check_model(m)
    g = m.graph
    ops = op_counts(g)
    bad = set(ops) - set(allowed_ops)
    if bad:
        raise RuntimeError("%s: unexpected ONNX ops %s" % (path, sorted(bad)))
    for init in g.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL or len(init.external_data) > 0:
            raise RuntimeError("%s: initializer %s stored externally" % (path, init.name))
    for n in g.node:
        if n.op_type == "BatchNormalization":
            for a in n.attribute:
                if a.name == "training_mode" and a.i != 0:
                    raise RuntimeError("%s: BN node %s exported in training mode"
                                       % (path, n.name))
    if len(g.input) != 1 or g.input[0].name != "input":
        raise RuntimeError("%s: unexpected graph inputs %s" % (path, [i.name for i in g.input]))
    if _dims(g.input[0]) != [1, 1, 28, 28]:
        raise RuntimeError("%s: unexpected input shape %s" % (path, _dims(g.input[0])))
    if len(g.output) != 1 or g.output[0].name != output_name:
        raise RuntimeError("%s: unexpected graph outputs %s" % (path, [o.name for o in g.output]))
    if _dims(g.output[0]) != list(output_shape):
        raise RuntimeError("%s: unexpected output shape %s" % (path, _dims(g.output[0])))
    return ops


def load_onnx_weights_into(model, path):
    """Load the initializers of the exported ONNX file back into `model`.

    Metrics and fixtures are then computed from exactly the weights stored in
    the ONNX file. Returns (state-dict entries matched, initializers in file).
    """
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    sd = model.state_dict()
    matched = 0
    new_sd = {}
    for k, v in sd.items():
        if k in inits:
            arr = inits[k]
            if tuple(arr.shape) != tuple(v.shape):
                raise RuntimeError("shape mismatch for %s" % k)
            new_sd[k] = torch.from_numpy(arr.copy()).to(v.dtype)
            matched += 1
        else:
            new_sd[k] = v
    model.load_state_dict(new_sd)
    return matched, len(inits)


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def save_npy(path, array, dtype):
    """Little-endian, C-ordered .npy (what the C++ fixture reader expects)."""
    np.save(path, np.ascontiguousarray(np.asarray(array).astype(dtype)))


@torch.no_grad()
def evaluate_classifier(model, x, y, batch=500):
    """Top-1, top-5 (fractions) and the logits of `model` in eval mode on x, y."""
    model.eval()
    top1 = top5 = 0
    logits_all = []
    for i in range(0, x.shape[0], batch):
        out = model(x[i:i + batch])
        logits_all.append(out)
        t5 = out.topk(5, dim=1).indices
        yy = y[i:i + batch]
        top1 += (t5[:, 0] == yy).sum().item()
        top5 += (t5 == yy.view(-1, 1)).any(dim=1).sum().item()
    n = x.shape[0]
    return top1 / n, top5 / n, torch.cat(logits_all)
