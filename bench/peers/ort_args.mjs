// Shared by the peer scripts: tiny argument parsing, an ONNX Runtime session configured the
// same way for every measurement, and input shapes from the model's metadata.
import * as ort from 'onnxruntime-node';

export {ort};

// parseArgs(argv, {threads: 1, iters: 50}) -> {positional: [...], threads: 1, iters: 50}; each
// option takes one value (--name V or --name=V); unknown options are an error.
export function parseArgs(argv, defaults, usage) {
  const options = {...defaults, positional: []};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    if (!arg.startsWith('--')) {
      options.positional.push(arg);
      continue;
    }
    let [name, value] = arg.slice(2).split(/=(.*)/s);
    if (!(name in defaults)) fail(`unknown option --${name}\n${usage}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) fail(`--${name} needs a value`);
      value = argv[++i];
    }
    options[name] = typeof defaults[name] === 'number' ? Number(value) : value;
    if (typeof defaults[name] === 'number' && !(Number.isInteger(options[name]) && options[name] >= 0))
      fail(`--${name} must be a non-negative integer, got '${value}'`);
  }
  return options;
}

export function fail(message) {
  process.stderr.write(`${process.argv[1].split('/').pop()}: error: ${message}\n`);
  process.exit(1);
}

// CPU execution provider, `threads` intra-op threads, one inter-op thread, sequential
// execution, all graph optimizations (ORT fuses the QDQ groups into QLinearConv etc. there).
// `extra`: further session options (ort_profile.mjs turns profiling on).
export async function createSession(model, threads, extra = {}) {
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...extra,
  });
}

// Static shape of each float input (symbolic dimensions, e.g. a batch "N", become 1).
export function inputShapes(session) {
  return session.inputMetadata.map((meta) => {
    if (!meta.isTensor || meta.type !== 'float32') fail(`input '${meta.name}' is not a float32 tensor`);
    return {name: meta.name, shape: meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1))};
  });
}

// Deterministic uniform [0, 1) numbers (mulberry32), the same on every run and machine.
export function uniformRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// One feed per float input, uniform [0, 1) from seed 1 (as `octet bench`).
export function randomFeeds(session) {
  const random = uniformRandom(1);
  const feeds = {};
  for (const {name, shape} of inputShapes(session)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; ++i) data[i] = random();
    feeds[name] = new ort.Tensor('float32', data, shape);
  }
  return feeds;
}
