#!/usr/bin/python3
"""Export the PyTorch 2x nearest-upsampling fixtures of Octet's Resize import tests.

A tiny Conv2d(3, 4, 3, padding=1) -> nn.Upsample(scale_factor=2, mode='nearest')
network under a fixed seed, exported at the three forms PyTorch's exporter
writes: opset 9 (Upsample with a Constant scales input), opset 11 (Resize with
Constant roi and scales, coordinate_transformation_mode asymmetric, nearest_mode
floor) and opset 13 (Resize with the roi input omitted). The input is odd-sized
(5x6) so rows and columns cannot be confused, and PyTorch's own output is saved
next to it as the expected result.

Usage:

    /usr/bin/python3 tools/models/export_upsample_fixtures.py -o tests/fixtures/upsample

Writes upsample_nearest_opset{9,11,13}.onnx, input.npy (1x3x5x6 float32) and
expected.npy (1x4x10x12 float32).
"""

import argparse
import os
import warnings

import numpy as np
import torch


class ConvUpsample(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.up = torch.nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x):
        return self.up(self.conv(x))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output-dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)

    torch.manual_seed(2024)
    model = ConvUpsample().eval()
    x = torch.randn(1, 3, 5, 6)
    with torch.no_grad():
        expected = model(x)
    np.save(os.path.join(args.output_dir, "input.npy"), x.numpy())
    np.save(os.path.join(args.output_dir, "expected.npy"), expected.numpy())
    for opset in (9, 11, 13):
        path = os.path.join(args.output_dir, f"upsample_nearest_opset{opset}.onnx")
        with warnings.catch_warnings():
            # Opset 9 warns that Upsample does not match PyTorch in general; for integer
            # nearest upsampling it does, which is what the fixture checks.
            warnings.simplefilter("ignore")
            torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"],
                              output_names=["output"])
        print(path)


if __name__ == "__main__":
    main()
