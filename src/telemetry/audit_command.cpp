// `warden audit verify FILE... [--secret-file F]`: checks the hash chain (and, with the
// secret, the HMAC checkpoints); exit 1 naming the first bad record.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/telemetry/audit/audit_log.hpp"

namespace warden::cli {

int audit(const Args& args) {
  try {
    CliArgs cli(args, {"secret-file"}, {"no-secret"});
    const auto& pos = cli.positionals();
    if (pos.size() < 2 || pos[0] != "verify") {
      std::fprintf(stderr,
                   "usage: warden audit verify FILE... [--secret-file F | --no-secret]\n"
                   "  FILEs oldest first (FILE.1 FILE.2 ... FILE); the secret defaults to 'secret' beside the\n"
                   "  first file (state_dir), used to check the HMAC checkpoints.\n");
      return 2;
    }
    std::vector<std::string> files(pos.begin() + 1, pos.end());
    std::string secret;
    if (!cli.flag("no-secret")) {
      std::string secret_path = cli.get_or(
          "secret-file", (std::filesystem::path(files[0]).parent_path() / "secret").string());
      std::ifstream in(secret_path);
      if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        secret = ss.str();
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' || secret.back() == ' '))
          secret.pop_back();
      } else if (cli.get("secret-file")) {
        std::fprintf(stderr, "warden audit: cannot read %s\n", secret_path.c_str());
        return 2;
      }
    }
    auto report = telemetry::verify_audit_files(files, secret);
    if (!report.ok) {
      std::printf("FAIL %s\n", report.first_bad.c_str());
      return 1;
    }
    std::printf("OK %lld records, %lld checkpoints (%s)\n", static_cast<long long>(report.records),
                static_cast<long long>(report.checkpoints),
                secret.empty() ? "HMAC not checked: no secret" : "HMAC verified");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warden audit: %s\n", e.what());
    return 2;
  }
}

}  // namespace warden::cli
