// ONNX Runtime's own per-node profile of a model, the peer of `octet bench --layers`:
//   node ort_profile.mjs MODEL.onnx [--threads N] [--iters N] [--warmup N] [--out PREFIX]
// runs the model --iters times after --warmup untimed runs (inputs as ort_bench.mjs) with
// ORT's profiler on, then prints one line per node: the median of its kernel times (ms) over
// the timed runs and its name (ORT's, e.g. '/layer1/layer1.0/conv1/Conv_token_5' for a fused
// QLinearConv), slowest first, and the total. The raw profile (Chrome trace JSON) stays in
// PREFIX_<date>.json (default /tmp/ort_profile).
import {createSession, fail, parseArgs, randomFeeds} from './ort_args.mjs';
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';

const usage =
  'usage: node ort_profile.mjs MODEL.onnx [--threads N] [--iters N] [--warmup N] [--out PREFIX]';
const args = parseArgs(process.argv.slice(2), {threads: 1, iters: 40, warmup: 5, out: '/tmp/ort_profile'}, usage);
if (args.positional.length !== 1) fail(usage);
if (args.threads < 1 || args.iters < 1) fail('--threads and --iters must be at least 1');
const model = args.positional[0];
if (!existsSync(dirname(args.out))) fail(`--out ${args.out}: no directory '${dirname(args.out)}'`);

let session;
try {
  session = await createSession(model, args.threads, {enableProfiling: true, profileFilePrefix: args.out});
} catch (error) {
  fail(`cannot load '${model}': ${String(error.message ?? error).split('\n')[0]}`);
}
const feeds = randomFeeds(session);
const started = Date.now();
for (let i = 0; i < args.warmup + args.iters; ++i) await session.run(feeds);
session.endProfiling();
await session.release();
// ORT names the file PREFIX_<date and time>.json and onnxruntime-node does not return the name:
// the newest such file written since this run started.
const directory = dirname(args.out), stem = basename(args.out) + '_';
const written = readdirSync(directory)
  .filter((name) => name.startsWith(stem) && name.endsWith('.json'))
  .map((name) => ({path: join(directory, name), time: statSync(join(directory, name)).mtimeMs}))
  .filter(({time}) => time >= started - 1000)
  .sort((a, b) => b.time - a.time);
if (written.length === 0) fail(`ONNX Runtime wrote no profile named ${args.out}_*.json`);
const file = written[0].path;

// Node events are '<node>_kernel_time' with a duration in microseconds; the warm-up runs come
// first in the trace, so each node keeps its last --iters durations.
const durations = new Map();
for (const event of JSON.parse(readFileSync(file, 'utf8'))) {
  if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
  const name = event.name.slice(0, -'_kernel_time'.length);
  if (!durations.has(name)) durations.set(name, []);
  durations.get(name).push(event.dur);
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const rows = [...durations].map(([name, dur]) => [median(dur.slice(-args.iters)) / 1000, name]);
rows.sort((a, b) => b[0] - a[0]);
for (const [ms, name] of rows) console.log(`${ms.toFixed(3).padStart(9)} ms  ${name}`);
console.log(`${rows.reduce((sum, [ms]) => sum + ms, 0).toFixed(3).padStart(9)} ms  total (sum of node medians)`);
console.log(`profile    ${file}`);
