// warden: the CLI. Only dispatch lives here; each verb is implemented beside its module.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "warden/cli/commands.hpp"
#include "warden_build_commit.h"  // generated: WARDEN_COMMIT

namespace {

struct Verb {
  const char* name;
  int (*run)(const warden::cli::Args&);
  const char* help;
  bool own_help = false;  // the verb prints a fuller usage for --help itself
};

const Verb kVerbs[] = {
#ifndef WARDEN_ENGINE_ONLY
    {"serve", warden::cli::serve, "serve -c FILE [--listen HOST:PORT]"},
    {"check", warden::cli::check, "check FILE"},
    {"keys", warden::cli::keys, "keys create|list|revoke|rotate ...", true},
    {"audit", warden::cli::audit, "audit verify FILE..."},
    {"usage", warden::cli::usage, "usage report [--by team|key|model] [--from DATE] [--to DATE] [--format table|csv|json]", true},
#endif
    {"tokenize", warden::cli::tokenize, "tokenize --tokenizer FILE [TEXT]"},
    {"generate", warden::cli::generate, "generate --model DIR [--prompt TEXT] [--max-tokens N] [--temperature T] [--seed S]", true},
    {"logits", warden::cli::logits, "logits --model DIR --ids 1,2,3 [--device auto|cpu|cuda:N] [--chunk N] [--greedy N]"},
    {"model", warden::cli::model, "model make-tiny --arch qwen2|llama|deepseek-moe|deepseek-v2|deepseek-v3|qwen2-moe --out DIR [--seed S] [--vocab qwen|deepseek|tiny] (see: warden model --help)", true},
};

// One line an operator can paste into a bug report.
int version() {
#ifdef WARDEN_HAVE_CUDA
  const char* cuda = "yes";
#else
  const char* cuda = "no";
#endif
#ifdef WARDEN_ENGINE_ONLY
  const char* flavour = ", engine-only";
#else
  const char* flavour = "";
#endif
  std::printf("warden %s (commit %s, %s build, CUDA %s%s)\n", WARDEN_VERSION, WARDEN_COMMIT,
              WARDEN_BUILD_TYPE[0] ? WARDEN_BUILD_TYPE : "default", cuda, flavour);
  return 0;
}

bool asks_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

int usage(FILE* out) {
  std::fprintf(out, "usage: warden <command> [options]\n\ncommands:\n");
  for (const auto& v : kVerbs) std::fprintf(out, "  warden %s\n", v.help);
  std::fprintf(out, "  warden --version\n\nEvery command takes --help.\n");
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  std::string verb = argv[1];
  if (verb == "-h" || verb == "--help" || verb == "help") return usage(stdout);
  if (verb == "--version" || verb == "version") return version();
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& v : kVerbs) {
    if (verb != v.name) continue;
    if (!v.own_help && asks_help(args)) {
      std::printf("usage: warden %s\n", v.help);
      return 0;
    }
    for (auto& a : args)  // verbs with their own usage know the long spelling
      if (a == "-h") a = "--help";
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
