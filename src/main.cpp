// warden: the CLI. Only dispatch lives here; each verb is implemented beside its module.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "warden/cli/commands.hpp"

namespace {

struct Verb {
  const char* name;
  int (*run)(const warden::cli::Args&);
  const char* help;
};

const Verb kVerbs[] = {
#ifndef WARDEN_ENGINE_ONLY
    {"serve", warden::cli::serve, "serve -c FILE [--listen HOST:PORT]"},
    {"check", warden::cli::check, "check FILE"},
    {"keys", warden::cli::keys, "keys create|list|revoke|rotate ..."},
    {"audit", warden::cli::audit, "audit verify FILE..."},
    {"usage", warden::cli::usage, "usage report [--by team|key|model] [--from DATE] [--to DATE] [--format table|csv|json]"},
#endif
    {"tokenize", warden::cli::tokenize, "tokenize --tokenizer FILE [TEXT]"},
    {"generate", warden::cli::generate, "generate --model DIR [--prompt TEXT] [--max-tokens N] [--temperature T] [--seed S]"},
    {"logits", warden::cli::logits, "logits --model DIR --ids 1,2,3"},
    {"model", warden::cli::model, "model make-tiny --arch qwen2|llama|deepseek-moe|deepseek-v2|deepseek-v3|qwen2-moe --out DIR [--seed S] [--vocab qwen|deepseek|tiny] (see: warden model --help)"},
};

int usage(FILE* out) {
  std::fprintf(out, "usage: warden <command> [options]\n\ncommands:\n");
  for (const auto& v : kVerbs) std::fprintf(out, "  warden %s\n", v.help);
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  std::string verb = argv[1];
  if (verb == "-h" || verb == "--help" || verb == "help") return usage(stdout);
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& v : kVerbs) {
    if (verb != v.name) continue;
    try {
      return v.run(args);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warden %s: %s\n", v.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "warden: unknown command '%s'\n\n", verb.c_str());
  return usage(stderr);
}
