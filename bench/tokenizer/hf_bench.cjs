#!/usr/bin/env node
// Hugging Face `tokenizers` (Rust, npm @anush008/tokenizers) throughput on the same corpus
// as tokenizer_bench: one cold pass, then `repeat` warm passes of sequential encode()
// calls (one document at a time, as warden's single-thread number), plus encodeBatch()
// over all documents (Rust-side parallel on every core). Prints one JSON object.
//   node hf_bench.cjs TOKENIZER_JSON CORPUS_JSON [REPEAT]
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');
const { Tokenizer } = createRequire(path.join(__dirname, '..', '..', 'tests', 'e2e', 'package.json'))(
  '@anush008/tokenizers',
);

async function main() {
  const [tokPath, corpusPath, repeatArg] = process.argv.slice(2);
  const repeat = Number(repeatArg || 3);
  const docs = JSON.parse(fs.readFileSync(corpusPath, 'utf8'));
  let t0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(tokPath);
  const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
  const pass = async () => {
    let tokens = 0;
    const start = process.hrtime.bigint();
    for (const d of docs) tokens += (await tok.encode(d, null, { addSpecialTokens: false })).getIds().length;
    return [tokens, Number(process.hrtime.bigint() - start) / 1e9];
  };
  const [coldTokens, coldS] = await pass();
  let best = Infinity;
  let tokens = 0;
  for (let r = 0; r < repeat; r++) {
    const [n, s] = await pass();
    tokens = n;
    best = Math.min(best, s);
  }
  let bestBatch = Infinity;
  for (let r = 0; r < repeat; r++) {
    const start = process.hrtime.bigint();
    const encs = await tok.encodeBatch(docs, { addSpecialTokens: false });
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    if (encs.length !== docs.length) throw new Error('encodeBatch lost documents');
    bestBatch = Math.min(bestBatch, s);
  }
  console.log(
    JSON.stringify({
      docs: docs.length,
      tokens,
      load_s: loadS,
      cold_s: coldS,
      warm_s: best,
      cold_tok_s: Math.round(coldTokens / coldS),
      warm_tok_s: Math.round(tokens / best),
      batch_tok_s: Math.round(tokens / bestBatch),
    }),
  );
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
