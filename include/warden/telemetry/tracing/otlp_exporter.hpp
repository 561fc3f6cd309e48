#pragma once
// OTLP/HTTP JSON span exporter. submit() only appends to a bounded in-memory queue; a
// background thread posts batches to <endpoint>/v1/traces. When the collector is slow or
// down, the queue fills and further spans are dropped and counted
// (warden_otlp_spans_dropped_total) — the request path never waits for the collector.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "warden/common/result.hpp"
#include "warden/telemetry/tracing/span.hpp"

namespace warden::telemetry {

struct OtlpExporterOptions {
  std::string endpoint;  // http://host:port[/prefix]; spans go to <endpoint>/v1/traces
  std::string service_name = "warden";
  size_t max_queue = 4096;
  size_t max_batch = 512;
  int64_t flush_interval_ms = 200;
  int64_t timeout_ms = 2000;  // per POST
};

class OtlpExporter {
 public:
  // Error when the endpoint is not an http:// URL (https is not supported by this exporter).
  static Result<std::unique_ptr<OtlpExporter>> create(OtlpExporterOptions options);
  ~OtlpExporter();  // sends what is queued (one try), then stops
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  bool submit(Span span);  // false: dropped (queue full)
  // Blocks until everything submitted before the call was sent or given up on.
  void flush();
  uint64_t exported() const;
  uint64_t dropped() const;

 private:
  OtlpExporter(OtlpExporterOptions options, std::string host, std::string port, std::string target);
  void run();
  bool post(const std::string& body);

  OtlpExporterOptions options_;
  std::string host_, port_, target_;
  mutable std::mutex mu_;
  std::condition_variable wake_, done_;
  std::deque<Span> queue_;
  uint64_t submitted_ = 0, exported_ = 0, dropped_ = 0, failed_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace warden::telemetry
