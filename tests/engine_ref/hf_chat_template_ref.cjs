#!/usr/bin/env node
// Renders conversations with the real DeepSeek-R1-Distill chat template
// (r1_distill_chat_template.jinja, as published in the model's tokenizer_config.json)
// using @huggingface/jinja — the reference for warden's native renderer.
//
//   node hf_chat_template_ref.cjs REQUEST_JSON
// REQUEST_JSON: {"cases": [{"messages": [...OpenAI-style messages...],
//                           "add_generation_prompt": bool}...]}
// prints {"rendered": [string...]}
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const e2e = path.join(__dirname, '..', 'e2e', 'package.json');
const { Template } = createRequire(e2e)('@huggingface/jinja');

const templateText = fs.readFileSync(path.join(__dirname, 'r1_distill_chat_template.jinja'), 'utf8');
const template = new Template(templateText);

const req = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const rendered = req.cases.map((c) =>
  template.render({
    messages: c.messages,
    add_generation_prompt: c.add_generation_prompt,
    bos_token: '<｜begin▁of▁sentence｜>',
    eos_token: '<｜end▁of▁sentence｜>',
  }),
);
process.stdout.write(JSON.stringify({ rendered }));
