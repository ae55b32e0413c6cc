// ONNX Runtime peer for bench/run_bert_bench.sh (npm onnxruntime-node, all graph optimizations).
// usage: node ort_bert.js MODEL.onnx THREADS BATCH SEQ ITERATIONS
const ort = require('onnxruntime-node');

async function main() {
  const [model, threads, batch, seq, iters] = process.argv.slice(2);
  const t = Number(threads), b = Number(batch), s = Number(seq), n = Number(iters);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: t, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const ids = new BigInt64Array(b * s).map((_, i) => BigInt(1000 + (i * 7919) % 20000));
  const mask = new BigInt64Array(b * s).fill(1n);
  const feeds = { input_ids: new ort.Tensor('int64', ids, [b, s]), attention_mask: new ort.Tensor('int64', mask, [b, s]) };
  const times = [];
  for (let i = 0; i < 3 + n; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 3) times.push(ms);
  }
  times.sort((x, y) => x - y);
  console.log(JSON.stringify({ engine: 'onnxruntime', threads: t, batch: b, seq: s,
    median_ms: +times[Math.floor(times.length / 2)].toFixed(2), min_ms: +times[0].toFixed(2), iterations: n }));
}
main().catch((e) => { console.error(e.message); process.exit(2); });
