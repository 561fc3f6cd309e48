#pragma once
// The DLP scanner: every built-in detector plus `dlp.custom` compiled into ONE Hyperscan
// block-mode database (start-of-match enabled), then validated (Luhn, IBAN mod-97, SSN
// ranges, IPv4 context) and resolved to non-overlapping spans. Immutable and shared;
// engine_for() caches one per distinct detector set, so each config load compiles at most
// once. scan() is thread-safe (per-thread scratch).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "warden/config/policy.hpp"

struct hs_database;

namespace warden::config {
struct Config;
}

namespace warden::policy {

// How a detector's match is found and checked. Hyperscan runs WITHOUT start-of-match for
// the built-ins (start-of-match made the database ~50x slower); each rule recovers the
// start from the reported end by the detector's own shape, then validates, including
// the word boundaries the patterns leave out for speed. Custom regexes use Hyperscan's
// start-of-match (Validator::Som).
enum class Validator { Som, Email, Ssn, Luhn, Ipv4, PhoneUs, PhoneIntl, Iban, Aws, Token, Jwt, Pem };

struct Detector {
  std::string name;   // email, phone, credit_card, iban, ssn, ipv4, aws_access_key, ... or custom name
  std::string group;  // "secrets" for the secret detectors (an action on `secrets` covers them)
  std::string label;  // placeholder label: EMAIL → <EMAIL_1>
  std::string pattern;
  Validator validator = Validator::Som;
  std::string default_action;  // custom detectors carry their own; built-ins: "" (off)
};

struct DlpMatch {
  int detector = 0;
  size_t start = 0;
  size_t end = 0;  // exclusive
};

class DlpEngine {
 public:
  // Throws std::runtime_error naming the detector whose pattern Hyperscan rejects.
  explicit DlpEngine(const std::vector<config::CustomDetector>& custom);
  ~DlpEngine();
  DlpEngine(const DlpEngine&) = delete;
  DlpEngine& operator=(const DlpEngine&) = delete;

  // Validated, non-overlapping matches in text order, found in the normalised view of
  // `text` (policy/normalize.hpp) and given as byte ranges of `text` itself. False when the scan itself failed
  // (scratch allocation, Hyperscan error, text over 4 GiB): callers refuse (fail closed).
  bool scan(std::string_view text, std::vector<DlpMatch>& out) const;
  // The same, for tests and benchmarks: a failed scan reads as no matches.
  std::vector<DlpMatch> scan(std::string_view text) const;
  // Raw Hyperscan pass only (no validation): for the throughput benchmark.
  size_t scan_raw(std::string_view text) const;

  const std::vector<Detector>& detectors() const { return detectors_; }

 private:
  bool scan_view(std::string_view text, std::vector<DlpMatch>& out) const;

 public:
  int find(std::string_view name) const;  // -1 when unknown

 private:
  std::vector<Detector> detectors_;
  std::vector<int> numeric_ids_;  // phone, credit_card, iban, ssn, ipv4
  hs_database* db_ = nullptr;
};

std::vector<Detector> builtin_detectors();

// The engine for cfg.dlp.custom (cached by the custom detectors' names/patterns/actions).
// Null (logged once) when compiling fails.
std::shared_ptr<const DlpEngine> engine_for(const config::Config& cfg);

bool luhn_valid(std::string_view digits_and_separators);
bool iban_valid(std::string_view text);

}  // namespace warden::policy
