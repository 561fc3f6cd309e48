#pragma once
// Each CLI verb is implemented next to the module it drives; main.cpp only dispatches.
// Every function takes the arguments after the verb and returns the process exit code.
#include <string>
#include <vector>

namespace warden::cli {

using Args = std::vector<std::string>;

// Gateway verbs (not built with WARDEN_ENGINE_ONLY).
int serve(const Args& args);     // src/server/serve_command.cpp
int check(const Args& args);     // src/config/check_command.cpp
int keys(const Args& args);      // src/policy/auth/keys_command.cpp
int audit(const Args& args);     // src/telemetry/audit_command.cpp
int usage(const Args& args);     // src/telemetry/usage_command.cpp

// Engine verbs.
int tokenize(const Args& args);  // src/engine/cli/tokenize_command.cpp
int generate(const Args& args);  // src/engine/cli/generate_command.cpp
int logits(const Args& args);    // src/engine/cli/logits_command.cpp
int model(const Args& args);     // src/engine/cli/model_command.cpp

}  // namespace warden::cli
