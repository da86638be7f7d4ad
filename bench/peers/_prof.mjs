import {fail, inputShapes, ort, uniformRandom} from './ort_args.mjs';
const model = process.argv[2], threads = Number(process.argv[3] ?? 1);
const session = await ort.InferenceSession.create(model, {executionProviders: ['cpu'], intraOpNumThreads: threads,
  interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3,
  enableProfiling: true, profileFilePrefix: '/tmp/ortprof'});
const random = uniformRandom(1);
const feeds = {};
for (const {name, shape} of inputShapes(session)) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; ++i) data[i] = random();
  feeds[name] = new ort.Tensor('float32', data, shape);
}
for (let i = 0; i < 45; ++i) await session.run(feeds);
session.endProfiling();
await session.release();
