// Latency of one inference in ONNX Runtime (CPU), the peer of `octet bench`:
//   node ort_bench.mjs MODEL.onnx [--threads N] [--iters N] [--warmup N]
// prints one JSON line {"model", "runtime", "threads", "iters", "latency_ms": {p50, p90, min}}.
// Inputs are uniform [0, 1) from a fixed seed (as octet bench). Each timed run is one
// session.run() awaited, so it includes onnxruntime-node's per-call overhead (a setImmediate
// hop and tensor wrapping, some microseconds).
import {createSession, fail, ort, parseArgs, randomFeeds} from './ort_args.mjs';

const usage = 'usage: node ort_bench.mjs MODEL.onnx [--threads N] [--iters N] [--warmup N]';
const args = parseArgs(process.argv.slice(2), {threads: 1, iters: 50, warmup: 5}, usage);
if (args.positional.length !== 1) fail(usage);
if (args.threads < 1 || args.iters < 1) fail('--threads and --iters must be at least 1');
const model = args.positional[0];

let session;
try {
  session = await createSession(model, args.threads);
} catch (error) {
  fail(`cannot load '${model}': ${String(error.message ?? error).split('\n')[0]}`);
}
const feeds = randomFeeds(session);
for (let i = 0; i < args.warmup; ++i) await session.run(feeds);
const ms = [];
for (let i = 0; i < args.iters; ++i) {
  const start = process.hrtime.bigint();
  await session.run(feeds);
  ms.push(Number(process.hrtime.bigint() - start) / 1e6);
}
ms.sort((a, b) => a - b);
const p50 = ms[Math.floor(ms.length / 2)];
const p90 = ms[Math.min(ms.length - 1, Math.floor((ms.length * 9) / 10))];
console.log(JSON.stringify({
  model,
  runtime: `onnxruntime-node ${ort.env.versions.node ?? ''}`.trim(),
  threads: args.threads,
  iters: args.iters,
  warmup: args.warmup,
  latency_ms: {p50, p90, min: ms[0]},
}));
await session.release();
