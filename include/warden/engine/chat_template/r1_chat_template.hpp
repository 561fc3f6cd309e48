#pragma once
// Native renderer of the DeepSeek-R1-Distill chat template (tokenizer_config.json of
// DeepSeek-R1-Distill-Qwen/Llama; text kept in tests/engine_ref/r1_distill_chat_template.jinja
// and tested byte-exact against @huggingface/jinja). What it reproduces, quirks included:
//  - bos_token, then the content of the LAST system message (earlier ones are dropped);
//  - user: "<｜User｜>" + content;
//  - assistant with content: "<｜Assistant｜>" + text after the last "</think>" + EOS
//    (reasoning is dropped from history); right after tool results it is
//    "<｜tool▁outputs▁end｜>" + content + EOS instead, with no </think> stripping;
//  - assistant with null content: its tool calls in DeepSeek markup; the template's
//    "first call ever" flag is conversation-wide and only non-first calls close the block
//    with "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>" — reproduced as is;
//  - tool: "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>" + content + "<｜tool▁output▁end｜>"
//    for the first tool message of the conversation, "\n<｜tool▁output▁begin｜>..." after;
//  - after the last message: "<｜tool▁outputs▁end｜>" if it was a tool result, else with
//    add_generation_prompt "<｜Assistant｜><think>\n".
// One deliberate reading: an assistant message that has tool_calls and empty content ("")
// is treated as null content (OpenAI clients send both), so its tool calls are rendered.
// A null content elsewhere renders as "" (the Jinja template would fail or print "None").
#include <string>
#include <string_view>
#include <vector>

#include "warden/engine/chat_template/chat_message.hpp"

namespace warden::engine {

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  std::string bos_token = "<｜begin▁of▁sentence｜>";  // the template's only variable token
};

std::string render_r1_chat(const std::vector<ChatMessage>& messages,
                           const ChatTemplateOptions& options = {});

// The Jinja source this renderer implements (for tokenizer_config.json files we write).
std::string_view r1_chat_template_text();

}  // namespace warden::engine
