// `audit:` section.
#include "sections.hpp"

namespace warden::config::sections {

void parse_audit(MapReader& root, Config& cfg) {
  auto m = root.map("audit");
  m.str("file", cfg.audit.file);
  m.choice("fsync", cfg.audit.fsync,
           {{"none", std::string("none")}, {"batch", std::string("batch")}, {"always", std::string("always")}});
}

}  // namespace warden::config::sections
