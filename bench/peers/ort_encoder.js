// ONNX Runtime peer for bench/run_bert_bench.sh and bench/run_vision_audio_bench.sh (npm
// onnxruntime-node, all graph optimizations), timed like encoder_bench.
// usage: node ort_encoder.js MODEL.onnx LABEL THREADS ITERATIONS WARMUP NAME:TYPE:DIMS...
//   e.g. input_ids:int64:1x128 attention_mask:int64:1x128, or pixel_values:float32:8x3x224x224
// int64 inputs named *mask are ones, other int64 inputs token ids; float32 inputs are uniform
// in [-1, 1) from a fixed seed.
const ort = require('onnxruntime-node');

function makeInput(spec) {
  const [name, type, dims] = spec.split(':');
  const shape = dims.split('x').map(Number);
  const n = shape.reduce((x, y) => x * y, 1);
  if (type === 'int64') {
    const data = name.endsWith('mask') ? new BigInt64Array(n).fill(1n)
      : new BigInt64Array(n).map((_, i) => BigInt(1000 + (i * 7919) % 20000));
    return [name, new ort.Tensor('int64', data, shape)];
  }
  if (type === 'float32') {
    let s = 12345;
    const data = new Float32Array(n).map(() => { s = (s * 1103515245 + 12345) % 2147483648; return s / 1073741824 - 1; });
    return [name, new ort.Tensor('float32', data, shape)];
  }
  throw new Error(`input type ${type} (int64 or float32)`);
}

async function main() {
  const [model, label, threads, iters, warmup, ...specs] = process.argv.slice(2);
  const t = Number(threads), n = Number(iters), w = Number(warmup);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: t, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const feeds = Object.fromEntries(specs.map(makeInput));
  const first = feeds[specs[0].split(':')[0]];
  const times = [];
  for (let i = 0; i < w + n; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= w) times.push(ms);
  }
  times.sort((x, y) => x - y);
  console.log(JSON.stringify({ engine: 'onnxruntime', model: label, threads: t, batch: first.dims[0],
    seq: first.type === 'int64' ? first.dims[1] : 0, input: first.dims.join('x'),
    median_ms: +times[Math.floor(times.length / 2)].toFixed(2), min_ms: +times[0].toFixed(2), iterations: n }));
}
main().catch((e) => { console.error(e.message); process.exit(2); });
