// The first input of an ONNX model, and synthetic calibration data for it:
//   node model_input.mjs MODEL.onnx                      prints {"name", "shape"} (JSON)
//   node model_input.mjs MODEL.onnx --random N --out X.npy
// writes N float32 samples, uniform [0, 1) from a fixed seed (the distribution `octet bench`
// feeds), as an .npy array of shape [N, ...input shape without its batch dimension] that
// `octet quantize --calib X.npy` reads. The NPY header is written here (format 1.0): no numpy.
import fs from 'node:fs';

import {createSession, fail, inputShapes, parseArgs, uniformRandom} from './ort_args.mjs';

const usage = 'usage: node model_input.mjs MODEL.onnx [--random N --out X.npy] [--seed S]';
const args = parseArgs(process.argv.slice(2), {random: 0, out: '', seed: 1}, usage);
if (args.positional.length !== 1) fail(usage);
let session;
try {
  session = await createSession(args.positional[0], 1);
} catch (error) {
  fail(`cannot load '${args.positional[0]}': ${String(error.message ?? error).split('\n')[0]}`);
}
const [input] = inputShapes(session);
await session.release();
if (!args.random) {
  console.log(JSON.stringify(input));
  process.exit(0);
}
if (!args.out) fail('--random needs --out X.npy');

const sample = input.shape.slice(1);  // drop the batch dimension
const perSample = sample.reduce((a, b) => a * b, 1);
const shape = [args.random, ...sample];
// NPY 1.0: magic, version, little-endian header length, a Python dict literal padded with
// spaces and ended by '\n' so that the data starts at a multiple of 64 bytes.
let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
const unpadded = 10 + header.length + 1;
header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
const prefix = Buffer.alloc(10);
prefix.write('\x93NUMPY', 0, 'latin1');
prefix[6] = 1;
prefix[7] = 0;
prefix.writeUInt16LE(header.length, 8);
const random = uniformRandom(args.seed);
const fd = fs.openSync(args.out, 'w');
fs.writeSync(fd, Buffer.concat([prefix, Buffer.from(header, 'latin1')]));
const chunk = new Float32Array(perSample);
for (let n = 0; n < args.random; ++n) {
  for (let i = 0; i < perSample; ++i) chunk[i] = random();
  fs.writeSync(fd, Buffer.from(chunk.buffer));  // little-endian on every platform ORT ships for
}
fs.closeSync(fd);
console.log(JSON.stringify({...input, out: args.out, samples: args.random}));
