#pragma once
// In-process metrics: counters, gauges and fixed-bucket histograms with labels, rendered
// as Prometheus text. Hot-path updates are relaxed atomics on per-series cells; looking a
// series up takes only the lock of one of 16 family shards, so no global lock is taken on
// the request path. Callers that update per request should keep the returned reference:
// series are never deleted, so references stay valid for the registry's lifetime.
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::telemetry {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A double stored in an atomic 64-bit cell; add() is a CAS loop (uncontended in practice).
class AtomicDouble {
 public:
  void add(double delta);
  void set(double value);
  double get() const;

 private:
  std::atomic<uint64_t> bits_{0};
};

class Counter {
 public:
  void inc(double delta = 1) { value_.add(delta); }
  double value() const { return value_.get(); }

 private:
  AtomicDouble value_;
};

class Gauge {
 public:
  void set(double v) { value_.set(v); }
  void add(double delta) { value_.add(delta); }
  double value() const { return value_.get(); }

 private:
  AtomicDouble value_;
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds) : bounds_(bounds), buckets_(bounds->size() + 1) {}
  void observe(double v);
  const std::vector<double>& bounds() const { return *bounds_; }
  // Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
  uint64_t cumulative(size_t i) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.get(); }

 private:
  const std::vector<double>* bounds_;
  std::deque<std::atomic<uint64_t>> buckets_;
  std::atomic<uint64_t> count_{0};
  AtomicDouble sum_;
};

// Bucket sets used across warden, in seconds and tokens.
const std::vector<double>& latency_buckets_seconds();
const std::vector<double>& token_buckets();

class Registry {
 public:
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                       const std::vector<double>& bounds = latency_buckets_seconds());

  // Prometheus text exposition format 0.0.4. Metric names with dots (OTel GenAI names such
  // as gen_ai.client.token.usage) are exported with dots replaced by underscores.
  std::string render_prometheus() const;

  // The process-wide registry every module reports into.
  static Registry& global();

 private:
  enum class Kind { Counter, Gauge, Histogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name;
    std::string help;
    Kind kind;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // key: canonical label string
  };
  struct Shard {
    mutable std::mutex mutex;
    std::map<std::string, std::unique_ptr<Family>, std::less<>> families;
  };

  Series& series(std::string_view name, std::string_view help, Kind kind, const Labels& labels,
                 const std::vector<double>* bounds);

  std::array<Shard, 16> shards_;
};

}  // namespace warden::telemetry
