// `dlp:` section: default detector actions and custom regex detectors.
#include <hs/hs.h>

#include <regex>

#include "sections.hpp"

namespace warden::config::sections {

void parse_dlp(MapReader& root, Config& cfg) {
  auto m = root.map("dlp");
  if (m.str_map("defaults", cfg.dlp.defaults)) {
    for (const auto& [detector, action] : cfg.dlp.defaults)
      if (action != "redact" && action != "block" && action != "allow" && action != "log")
        m.ctx().error(m.get("defaults")->value_pos, m.field("defaults") + "." + detector + ": expected one of redact | block | log | allow");
  }
  m.boolean("scan_responses", cfg.dlp.scan_responses);
  if (const auto* custom = m.get("custom")) {
    size_t i = 0;
    for (const auto& [node, p] : sequence_items(m.ctx(), custom->value, m.field("custom"), custom->value_pos)) {
      MapReader c(m.ctx(), node, m.field("custom") + "[" + std::to_string(i++) + "]", p);
      CustomDetector d;
      d.pos = c.pos();
      if (!c.str("name", d.name)) c.ctx().error(c.pos(), c.field("name") + ": required");
      if (!c.str("regex", d.regex)) {
        c.ctx().error(c.pos(), c.field("regex") + ": required");
      } else {
        // Validity check only (the filter compiles its own engine, e.g. Hyperscan).
        try {
          std::regex re(d.regex, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          c.ctx().error(c.get("regex")->value_pos, c.field("regex") + ": not a valid regular expression");
        }
        // The DLP filter compiles custom detectors with Hyperscan (start-of-match on);
        // reject here what it would refuse at run time (back-references, huge repeats).
        hs_database_t* db = nullptr;
        hs_compile_error_t* err = nullptr;
        if (hs_compile(d.regex.c_str(), HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
          c.ctx().error(c.get("regex")->value_pos,
                        c.field("regex") + ": not supported by the DLP engine (Hyperscan): " +
                            (err && err->message ? err->message : "unknown error"));
          hs_free_compile_error(err);
        } else {
          hs_free_database(db);
        }
      }
      c.choice("action", d.action,
               {{"redact", std::string("redact")}, {"block", std::string("block")}, {"log", std::string("log")}});
      cfg.dlp.custom.push_back(std::move(d));
    }
  }
}

}  // namespace warden::config::sections
