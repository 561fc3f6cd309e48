#pragma once
// OTLP/HTTP JSON span exporter. submit() copies one fixed-size SpanRecord into a slot of a
// preallocated lock-free ring (no lock, no allocation, no wake-up of the exporter thread
// except when a full batch is waiting); a background thread encodes the JSON and posts
// batches to <endpoint>/v1/traces over a kept-alive connection. When the collector is
// slow or down, the ring fills and further spans are dropped and counted
// (warden_otlp_spans_dropped_total) — the request path never waits for the collector.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "warden/common/result.hpp"
#include "warden/telemetry/tracing/span.hpp"
#include "warden/telemetry/tracing/span_record.hpp"

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

  // False: dropped (queue full or stopping). Safe from any number of threads.
  bool submit(const SpanRecord& span);
  bool submit(const Span& span);  // converted to a SpanRecord (its limits apply)
  // Blocks until everything submitted before the call was sent or given up on.
  void flush();
  uint64_t exported() const;
  uint64_t dropped() const;

 private:
  struct Slot {
    std::atomic<uint64_t> seq;
  };
  class Connection;

  OtlpExporter(OtlpExporterOptions options, std::string host, std::string port, std::string target);
  void run();
  bool post(std::string& body);  // body is handed back unchanged

  OtlpExporterOptions options_;
  std::string host_, port_, target_;

  // Bounded MPMC ring (D. Vyukov's): slot i is free for position p when seq == p, holds a
  // record for p when seq == p + 1. Only the exporter thread consumes.
  size_t capacity_;
  std::unique_ptr<Slot[]> seqs_;
  std::unique_ptr<SpanRecord[]> records_;  // default-initialised: untouched until used
  alignas(64) std::atomic<uint64_t> head_{0};  // next position to fill (producers)
  alignas(64) std::atomic<uint64_t> tail_{0};  // next position to consume (exporter thread)
  alignas(64) std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> wake_pending_{false};  // a producer has notified since the exporter last slept

  mutable std::mutex mu_;
  std::condition_variable wake_, done_;
  uint64_t exported_ = 0, failed_ = 0;  // guarded by mu_
  bool flush_requested_ = false;         // guarded by mu_
  bool finished_ = false;                // guarded by mu_: the thread has drained and left
  std::atomic<bool> stop_{false};
  std::unique_ptr<Connection> conn_;  // exporter thread only
  std::thread thread_;
};

}  // namespace warden::telemetry
