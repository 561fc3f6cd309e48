#include "warden/telemetry/metrics/registry.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <functional>

namespace warden::telemetry {

void AtomicDouble::add(double delta) {
  uint64_t old_bits = bits_.load(std::memory_order_relaxed);
  while (!bits_.compare_exchange_weak(old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + delta),
                                      std::memory_order_relaxed)) {
  }
}

void AtomicDouble::set(double value) { bits_.store(std::bit_cast<uint64_t>(value), std::memory_order_relaxed); }

double AtomicDouble::get() const { return std::bit_cast<double>(bits_.load(std::memory_order_relaxed)); }

void Histogram::observe(double v) {
  const auto& b = *bounds_;
  size_t i = std::lower_bound(b.begin(), b.end(), v) - b.begin();  // first bound >= v: le semantics
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.add(v);
}

uint64_t Histogram::cumulative(size_t i) const {
  uint64_t total = 0;
  for (size_t k = 0; k <= i && k < buckets_.size(); ++k) total += buckets_[k].load(std::memory_order_relaxed);
  return total;
}

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,    1,     2.5,    5,     10,   30,    60,   120, 300};
  return b;
}

const std::vector<double>& token_buckets() {
  static const std::vector<double> b = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
  return b;
}

namespace {

std::string label_key(const Labels& labels) {
  std::string key;
  for (const auto& [k, v] : labels) {
    key += k;
    key += '\x1f';
    key += v;
    key += '\x1e';
  }
  return key;
}

std::string prometheus_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) c = '_';
  }
  return out;
}

void append_escaped(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void append_labels(std::string& out, const Labels& labels, const char* extra_key = nullptr,
                   std::string_view extra_value = {}) {
  if (labels.empty() && !extra_key) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += prometheus_name(k);
    out += "=\"";
    append_escaped(out, v);
    out += '"';
  }
  if (extra_key) {
    if (!first) out += ',';
    out += extra_key;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_number(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

}  // namespace

Registry::Series& Registry::series(std::string_view name, std::string_view help, Kind kind, const Labels& labels,
                                   const std::vector<double>* bounds) {
  Shard& shard = shards_[std::hash<std::string_view>{}(name) % shards_.size()];
  std::lock_guard lock(shard.mutex);
  auto it = shard.families.find(name);
  if (it == shard.families.end()) {
    auto family = std::make_unique<Family>();
    family->name = std::string(name);
    family->help = std::string(help);
    family->kind = kind;
    if (bounds) family->bounds = *bounds;
    it = shard.families.emplace(std::string(name), std::move(family)).first;
  }
  Family& family = *it->second;
  auto [sit, inserted] = family.series.try_emplace(label_key(labels));
  Series& s = sit->second;
  if (inserted) {
    s.labels = labels;
    switch (family.kind) {
      case Kind::Counter: s.counter = std::make_unique<Counter>(); break;
      case Kind::Gauge: s.gauge = std::make_unique<Gauge>(); break;
      case Kind::Histogram: s.histogram = std::make_unique<Histogram>(&family.bounds); break;
    }
  }
  return s;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  Series& s = series(name, help, Kind::Counter, labels, nullptr);
  if (!s.counter) s.counter = std::make_unique<Counter>();  // name registered with another kind: keep a private cell
  return *s.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  Series& s = series(name, help, Kind::Gauge, labels, nullptr);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               const std::vector<double>& bounds) {
  Series& s = series(name, help, Kind::Histogram, labels, &bounds);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(&latency_buckets_seconds());
  return *s.histogram;
}

std::string Registry::render_prometheus() const {
  // Collect family pointers first so the output is sorted by name across shards.
  std::vector<std::pair<const Family*, const Shard*>> families;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [name, family] : shard.families) families.emplace_back(family.get(), &shard);
  }
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.first->name < b.first->name; });

  std::string out;
  for (const auto& [family, shard] : families) {
    std::lock_guard lock(shard->mutex);
    const std::string name = prometheus_name(family->name);
    out += "# HELP " + name + " ";
    append_escaped(out, family->help);
    out += "\n# TYPE " + name + " ";
    out += family->kind == Kind::Counter ? "counter" : family->kind == Kind::Gauge ? "gauge" : "histogram";
    out += '\n';
    for (const auto& [key, s] : family->series) {
      if (family->kind == Kind::Histogram) {
        const Histogram& h = *s.histogram;
        for (size_t i = 0; i <= h.bounds().size(); ++i) {
          out += name + "_bucket";
          std::string le;
          if (i == h.bounds().size()) le = "+Inf";
          else append_number(le, h.bounds()[i]);
          append_labels(out, s.labels, "le", le);
          out += ' ';
          append_number(out, static_cast<double>(h.cumulative(i)));
          out += '\n';
        }
        out += name + "_sum";
        append_labels(out, s.labels);
        out += ' ';
        append_number(out, h.sum());
        out += '\n' + name + "_count";
        append_labels(out, s.labels);
        out += ' ';
        append_number(out, static_cast<double>(h.count()));
        out += '\n';
      } else {
        out += name;
        append_labels(out, s.labels);
        out += ' ';
        append_number(out, s.counter ? s.counter->value() : s.gauge->value());
        out += '\n';
      }
    }
  }
  return out;
}

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

}  // namespace warden::telemetry
