// Scripts for tests/support/fake_upstream.mjs that the routing/resilience and Anthropic
// suites need beyond the DeepSeek (OpenAI-format) ones:
//   anthropic.*  an Anthropic-format upstream (POST /v1/messages): whole messages, the exact
//                SSE event sequence (thinking with signature, text, tool_use with
//                input_json_delta), Anthropic-shaped errors.
//   fault.*      misbehaviours in sequence: N× a failure then a good answer, keep-alive
//                comments forever, a hang or a reset after some bytes.
import { reply } from './fake_upstream.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const anthropicUsage = { input_tokens: 12, output_tokens: 34, cache_creation_input_tokens: 5, cache_read_input_tokens: 40 };

// The content blocks of an answer: [{type:'thinking', thinking, signature}, {type:'text', text},
// {type:'tool_use', id, name, input}].
export function anthropicMessage({ model = 'claude-fake', blocks = [{ type: 'text', text: 'Hello from Anthropic fake.' }],
  stopReason = null, usage = anthropicUsage } = {}) {
  const stop = stopReason ?? (blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
  return { id: 'msg_fake_1', type: 'message', role: 'assistant', model, content: blocks, stop_reason: stop, stop_sequence: null, usage };
}

const ev = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

// The SSE steps (raw strings for fake_upstream's reply.stream) Anthropic sends for `message`.
// Text and thinking are split in `pieces` chunks; tool input JSON in two fragments.
export function anthropicStreamSteps(message, { pieces = 2, ping = true } = {}) {
  const out = [];
  const { content, usage, ...rest } = message;
  out.push(ev('message_start', { type: 'message_start', message: { ...rest, content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: usage.input_tokens, cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens, output_tokens: 1 } } }));
  if (ping) out.push(ev('ping', { type: 'ping' }));
  const split = (s) => {
    const n = Math.max(1, Math.min(pieces, s.length));
    const size = Math.ceil(s.length / n);
    const parts = [];
    for (let i = 0; i < s.length; i += size) parts.push(s.slice(i, i + size));
    return parts.length ? parts : [''];
  };
  content.forEach((b, index) => {
    if (b.type === 'text') {
      out.push(ev('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      for (const p of split(b.text)) out.push(ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } }));
    } else if (b.type === 'thinking') {
      out.push(ev('content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      for (const p of split(b.thinking)) out.push(ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: p } }));
      out.push(ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature } }));
    } else if (b.type === 'tool_use') {
      out.push(ev('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } }));
      const json = JSON.stringify(b.input);
      const mid = Math.floor(json.length / 2);
      for (const p of [json.slice(0, mid), json.slice(mid)]) {
        out.push(ev('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: p } }));
      }
    }
    out.push(ev('content_block_stop', { type: 'content_block_stop', index }));
  });
  out.push(ev('message_delta', { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }));
  out.push(ev('message_stop', { type: 'message_stop' }));
  return out;
}

export const anthropic = {
  // Answers like Anthropic: SSE when the request asked for a stream, else one JSON message.
  message(opts = {}) {
    return async (ctx) => {
      const req = ctx.record.json ?? {};
      const msg = anthropicMessage({ model: req.model, ...opts });
      if (req.stream) return reply.stream(anthropicStreamSteps(msg, opts))(ctx);
      return reply.json(msg)(ctx);
    };
  },
  error(status, type, message, { headers = {} } = {}) {
    return reply.json({ type: 'error', error: { type, message } }, { status, headers });
  },
  // count_tokens answer.
  countTokens(n) { return reply.json({ input_tokens: n }); },
};

export const fault = {
  // `n` times `bad`, then `good` (persistent): install with fake.setDefault(...).
  times(n, bad, good) {
    let left = n;
    return async (ctx) => {
      if (left > 0) {
        left--;
        return bad(ctx);
      }
      return good(ctx);
    };
  },
  // An upstream stuck in DeepSeek's queue: 200, then keep-alives every `everyMs` until the
  // peer leaves — `: keep-alive` SSE comments for stream requests, blank lines for
  // non-stream ones (what DeepSeek sends). Never sends a payload byte.
  keepAliveForever(everyMs = 50) {
    return async ({ res, record }) => {
      const stream = record.json?.stream === true;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', 'cache-control': 'no-cache' });
      res.flushHeaders();
      while (!record.clientClosed) {
        res.write(stream ? ': keep-alive\n\n' : '\n');
        await Promise.race([sleep(everyMs), record.closed]);
      }
    };
  },
};
