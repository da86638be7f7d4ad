// Top-1 accuracy of a classifier in ONNX Runtime (CPU) on the Fashion-MNIST test set:
//   node ort_eval.mjs MODEL.onnx [--limit N] [--threads N] [--data DIR]
// Reads t10k-images-idx3-ubyte.gz / t10k-labels-idx1-ubyte.gz from DIR (default
// $OCTET_DATASETS_DIR/fashion-mnist, else /usr/share/datasets/fashion-mnist) with node's zlib;
// each image is fed as a 1x1x28x28 float tensor of pixel/255 (as `octet eval
// --data fashion-mnist:test`). Prints one JSON line {"model", "top1", "correct", "samples"}.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import {createSession, fail, inputShapes, ort, parseArgs} from './ort_args.mjs';

const usage = 'usage: node ort_eval.mjs MODEL.onnx [--limit N] [--threads N] [--data DIR]';
const root = process.env.OCTET_DATASETS_DIR || '/usr/share/datasets';
const args = parseArgs(process.argv.slice(2), {limit: 0, threads: 1, data: path.join(root, 'fashion-mnist')}, usage);
if (args.positional.length !== 1) fail(usage);
const model = args.positional[0];

// IDX file: big-endian magic (0x0801 labels, 0x0803 images), then the dimensions, then bytes.
function readIdx(file, magic) {
  let bytes;
  try {
    bytes = zlib.gunzipSync(fs.readFileSync(file));
  } catch (error) {
    fail(`cannot read '${file}': ${error.message}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0) !== magic) fail(`'${file}' is not an IDX file (bad magic)`);
  const rank = magic & 0xff;
  const dims = [];
  for (let i = 0; i < rank; ++i) dims.push(view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + count) fail(`'${file}' has ${bytes.length - offset} data bytes, expected ${count}`);
  return {dims, data: bytes.subarray(offset)};
}

const images = readIdx(path.join(args.data, 't10k-images-idx3-ubyte.gz'), 0x00000803);
const labels = readIdx(path.join(args.data, 't10k-labels-idx1-ubyte.gz'), 0x00000801);
const [count, rows, cols] = images.dims;
if (labels.dims[0] !== count) fail('image and label counts differ');
const samples = args.limit ? Math.min(args.limit, count) : count;

let session;
try {
  session = await createSession(model, args.threads);
} catch (error) {
  fail(`cannot load '${model}': ${String(error.message ?? error).split('\n')[0]}`);
}
const inputs = inputShapes(session);
if (inputs.length !== 1) fail('the model must have one input');
const {name, shape} = inputs[0];
if (shape.reduce((a, b) => a * b, 1) !== rows * cols) fail(`input '${name}' has shape [${shape}], not one ${rows}x${cols} image`);
const output = session.outputNames[0];

let correct = 0;
const pixels = new Float32Array(rows * cols);
for (let i = 0; i < samples; ++i) {
  const image = images.data.subarray(i * rows * cols, (i + 1) * rows * cols);
  for (let j = 0; j < pixels.length; ++j) pixels[j] = image[j] / 255;
  const result = await session.run({[name]: new ort.Tensor('float32', pixels, shape)});
  const logits = result[output].data;
  let best = 0;
  for (let k = 1; k < logits.length; ++k) if (logits[k] > logits[best]) best = k;
  if (best === labels.data[i]) ++correct;
}
console.log(JSON.stringify({model, top1: correct / samples, correct, samples}));
await session.release();
