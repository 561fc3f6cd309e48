// W3C traceparent parsing, the OTLP/HTTP JSON body, and the exporter posting to a real
// TCP collector (and dropping, counted, when the collector does not answer).
#include <simdjson.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "warden/telemetry/tracing/otlp_exporter.hpp"
#include "warden/telemetry/tracing/span.hpp"

using namespace warden::telemetry;
namespace asio = boost::asio;
namespace http = boost::beast::http;

TEST_CASE("traceparent: valid headers parse, invalid ones are refused") {
  auto tp = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  REQUIRE(tp);
  CHECK(tp->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(tp->span_id == "00f067aa0ba902b7");
  CHECK(tp->sampled);
  CHECK_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
  CHECK(format_traceparent(*tp) == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  // A later version may carry more fields after a dash.
  CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
  CHECK_FALSE(parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));  // zero trace
  CHECK_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));  // zero span
  CHECK_FALSE(parse_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));  // version ff
  CHECK_FALSE(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));  // upper case
  CHECK_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));  // v00 + extra
  CHECK_FALSE(parse_traceparent("garbage"));
  const auto t = new_trace_id(), s = new_span_id();
  CHECK(t.size() == 32);
  CHECK(s.size() == 16);
  CHECK(parse_traceparent("00-" + t + "-" + s + "-01"));
  CHECK(new_trace_id() != t);
}

TEST_CASE("otlp json: resource, spans, typed attributes") {
  Span s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "00f067aa0ba902b7";
  s.parent_span_id = "1111111111111111";
  s.name = "chat \"fast\"";
  s.kind = SpanKind::Client;
  s.start_unix_ns = 1'700'000'000'000'000'000;
  s.end_unix_ns = 1'700'000'000'500'000'000;
  s.attributes = {{"gen_ai.request.model", std::string("fast")},
                  {"gen_ai.usage.input_tokens", int64_t{42}},
                  {"gen_ai.request.temperature", 0.5},
                  {"gen_ai.request.stream", true},
                  {"gen_ai.response.finish_reasons", std::vector<std::string>{"stop"}}};
  s.status = SpanStatus::Error;
  const std::string body = otlp_json({s}, "warden-test");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body);
  auto rs = doc["resourceSpans"].at(0);
  CHECK(std::string_view(rs["resource"]["attributes"].at(0)["value"]["stringValue"]) == "warden-test");
  auto span = rs["scopeSpans"].at(0)["spans"].at(0);
  CHECK(std::string_view(span["traceId"]) == s.trace_id);
  CHECK(std::string_view(span["parentSpanId"]) == "1111111111111111");
  CHECK(std::string_view(span["name"]) == "chat \"fast\"");
  CHECK(int64_t(span["kind"]) == 3);
  CHECK(std::string_view(span["startTimeUnixNano"]) == "1700000000000000000");
  CHECK(int64_t(span["status"]["code"]) == 2);
  auto attrs = span["attributes"];
  CHECK(std::string_view(attrs.at(1)["value"]["intValue"]) == "42");
  CHECK(double(attrs.at(2)["value"]["doubleValue"]) == 0.5);
  CHECK(bool(attrs.at(3)["value"]["boolValue"]));
  CHECK(std::string_view(attrs.at(4)["value"]["arrayValue"]["values"].at(0)["stringValue"]) == "stop");
}

namespace {

// A one-thread HTTP collector on 127.0.0.1:0: answers 200 (or never, when `silent`).
class Collector {
 public:
  explicit Collector(bool silent) : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), silent_(silent) {
    thread_ = std::thread([this] { serve(); });
  }
  ~Collector() {
    stop_ = true;
    asio::ip::tcp::socket poke(io_);
    boost::system::error_code ec;
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  std::vector<std::pair<std::string, std::string>> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    std::vector<asio::ip::tcp::socket> held;
    while (!stop_) {
      asio::ip::tcp::socket sock(io_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) break;
      boost::beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec) continue;
      {
        std::lock_guard lock(mu_);
        requests_.emplace_back(std::string(req.target()), req.body());
      }
      if (silent_) {
        held.push_back(std::move(sock));  // never answer
        continue;
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      res.body() = "{}";
      res.prepare_payload();
      http::write(sock, res, ec);
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  bool silent_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> requests_;
  std::thread thread_;
};

Span sample_span(int i) {
  Span s;
  s.trace_id = new_trace_id();
  s.span_id = new_span_id();
  s.name = "chat span-" + std::to_string(i);
  s.start_unix_ns = 1;
  s.end_unix_ns = 2;
  return s;
}

}  // namespace

TEST_CASE("otlp exporter: batches reach the collector at /v1/traces") {
  Collector collector(false);
  OtlpExporterOptions o;
  o.endpoint = collector.endpoint() + "/";
  o.service_name = "svc";
  auto exporter = OtlpExporter::create(o);
  REQUIRE(exporter);
  for (int i = 0; i < 5; ++i) CHECK((*exporter)->submit(sample_span(i)));
  (*exporter)->flush();
  CHECK((*exporter)->exported() == 5);
  auto reqs = collector.requests();
  REQUIRE_FALSE(reqs.empty());
  CHECK(reqs[0].first == "/v1/traces");
  int spans = 0;
  simdjson::dom::parser parser;
  for (const auto& [target, body] : reqs) {
    simdjson::dom::element doc = parser.parse(body);
    for (auto sp : doc["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].get_array()) {
      CHECK(std::string_view(sp["name"]).substr(0, 10) == "chat span-");
      ++spans;
    }
  }
  CHECK(spans == 5);
}

TEST_CASE("otlp exporter: a collector that never answers makes spans drop, counted, without blocking submit") {
  Collector collector(true);
  OtlpExporterOptions o;
  o.endpoint = collector.endpoint();
  o.max_queue = 4;
  o.max_batch = 2;
  o.flush_interval_ms = 10;
  o.timeout_ms = 300;
  auto exporter = OtlpExporter::create(o);
  REQUIRE(exporter);
  const auto t0 = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 0; i < 200; ++i) accepted += (*exporter)->submit(sample_span(i)) ? 1 : 0;
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < std::chrono::milliseconds(100));  // submit never waits for the collector
  CHECK(accepted <= 4 + 2);                        // the queue plus at most one batch in flight
  CHECK((*exporter)->dropped() == static_cast<uint64_t>(200 - accepted));
}

TEST_CASE("otlp exporter: only http:// endpoints") {
  OtlpExporterOptions o;
  o.endpoint = "https://collector:4318";
  CHECK_FALSE(OtlpExporter::create(o));
  o.endpoint = "collector:4318";
  CHECK_FALSE(OtlpExporter::create(o));
}
