// `warden tokenize --tokenizer FILE|DIR [TEXT]`: prints the ids of TEXT (or of all of stdin,
// byte for byte, trailing newline included) as a JSON array on one line.
//   --no-special          tokens flagged special in the text are encoded as plain text
//   --add-special-tokens  apply the file's post-processor (e.g. R1-distill's leading BOS)
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"

namespace warden::cli {

int tokenize(const Args& args) {
  try {
    CliArgs cli(args, {"tokenizer"}, {"no-special", "add-special-tokens"});
    auto path = cli.get("tokenizer");
    if (!path || cli.positionals().size() > 1) {
      std::fprintf(stderr, "usage: warden tokenize --tokenizer FILE|DIR [--no-special] [--add-special-tokens] [TEXT]\n");
      return 2;
    }
    std::string file = *path;
    if (std::filesystem::is_directory(file)) file = (std::filesystem::path(file) / "tokenizer.json").string();
    const auto tokenizer = engine::Tokenizer::load(file);
    std::string text;
    if (!cli.positionals().empty()) {
      text = cli.positionals()[0];
    } else {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    const bool parse_special = !cli.flag("no-special");
    const auto ids = cli.flag("add-special-tokens") ? tokenizer.encode_with_special_tokens(text, parse_special)
                                                    : tokenizer.encode(text, parse_special);
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(ids[i]);
    }
    out += "]\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "warden tokenize: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warden tokenize: %s\n", e.what());
    return 1;
  }
}

}  // namespace warden::cli
