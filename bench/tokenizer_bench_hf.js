// Peer measurement: HF `tokenizers` (npm, Rust core) encodeBatch on the same corpus.
// usage: node tokenizer_bench_hf.js MODULE_DIR TOKENIZER_JSON CORPUS.txt
// Thread count comes from RAYON_NUM_THREADS (1 = single-thread; the batch call has no
// per-call JS overhead, which keeps the single-thread number fair to the peer).
const path = require('path');
const fs = require('fs');
const { Tokenizer } = require(path.join(process.argv[2], 'node_modules', 'tokenizers'));
const tok = Tokenizer.fromFile(process.argv[3]);
const lines = fs.readFileSync(process.argv[4], 'utf8').split('\n').filter((l) => l.length > 0);
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
(async () => {
  await tok.encodeBatch(lines.slice(0, 100));  // warm up
  const t0 = process.hrtime.bigint();
  const out = await tok.encodeBatch(lines);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  let n = 0;
  for (const e of out) n += e.getIds().length;
  console.log(`hf-tokenizers ${process.argv[3]}: ${(bytes / 1e6).toFixed(1)} MB, ${n} tokens | threads=${process.env.RAYON_NUM_THREADS || 'all'}: ${(bytes / 1e6 / s).toFixed(2)} MB/s`);
})();
