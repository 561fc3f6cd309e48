// `audit:` section.
#include "sections.hpp"

namespace warden::config::sections {

void parse_audit(MapReader& root, Config& cfg) {
  auto m = root.map("audit");
  m.str("file", cfg.audit.file);
  m.choice("fsync", cfg.audit.fsync,
           {{"none", std::string("none")}, {"batch", std::string("batch")}, {"always", std::string("always")}});
  m.integer("checkpoint_every", cfg.audit.checkpoint_every, 1, 1'000'000);
  m.integer("max_bytes", cfg.audit.max_bytes, 0);
}

}  // namespace warden::config::sections
