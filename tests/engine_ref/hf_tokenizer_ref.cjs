#!/usr/bin/env node
// Reference ids and texts from Hugging Face `tokenizers` (the Rust library, via the npm
// binding @anush008/tokenizers), computed at test time for warden's tokenizer tests.
//
//   node hf_tokenizer_ref.cjs TOKENIZER_JSON REQUEST_JSON
// REQUEST_JSON: {"texts": [string...], "decode": [[id...]...]}
// prints {"encode": [[id...]...], "decode": [string...], "decode_skip_special": [string...],
//         "vocab_size": n}
// encode uses add_special_tokens=false (no post-processor), as warden's encode().
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const e2e = path.join(__dirname, '..', 'e2e', 'package.json');
const { Tokenizer } = createRequire(e2e)('@anush008/tokenizers');

async function main() {
  const [tokenizerPath, requestPath] = process.argv.slice(2);
  if (!tokenizerPath || !requestPath) {
    console.error('usage: hf_tokenizer_ref.cjs TOKENIZER_JSON REQUEST_JSON');
    process.exit(2);
  }
  const tok = Tokenizer.fromFile(tokenizerPath);
  const req = JSON.parse(fs.readFileSync(requestPath, 'utf8'));
  const out = { encode: [], decode: [], decode_skip_special: [], vocab_size: tok.getVocabSize(true) };
  for (const text of req.texts || []) {
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    out.encode.push(Array.from(enc.getIds()));
  }
  for (const ids of req.decode || []) {
    out.decode.push(await tok.decode(ids, false));
    out.decode_skip_special.push(await tok.decode(ids, true));
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
