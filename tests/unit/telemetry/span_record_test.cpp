// The request-path span record (fixed size, no allocation): its attribute limits, the JSON
// it encodes to, and the lock-free exporter ring fed from several threads at once into a
// real TCP collector (every span arrives once; the connection is reused across batches).
#include <simdjson.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "warden/telemetry/tracing/otlp_exporter.hpp"
#include "warden/telemetry/tracing/span_record.hpp"

using namespace warden::telemetry;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

simdjson::dom::element only_span(simdjson::dom::parser& parser, const std::string& body) {
  simdjson::dom::element doc = parser.parse(body);  // throws on invalid JSON or UTF-8
  return doc["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].at(0);
}

std::string encode(const SpanRecord& r) {
  std::string out;
  otlp_json_open(out, "svc");
  r.append_otlp_json(out);
  otlp_json_close(out);
  return out;
}

}  // namespace

TEST_CASE("span record: literal keys, typed values, ids and name without allocation") {
  auto r = std::make_unique<SpanRecord>();
  r->reset();
  r->set_trace_id("4bf92f3577b34da6a3ce929d0e0e4736");
  r->set_span_id("00f067aa0ba902b7");
  r->set_parent_span_id("1111111111111111");
  r->set_name("chat ", "fast");
  r->set_kind(SpanKind::Server);
  r->set_times(1'700'000'000'000'000'000, 1'700'000'000'250'000'000);
  r->add("gen_ai.request.model", std::string_view("fast"));
  r->add("gen_ai.usage.input_tokens", int64_t{-7});
  r->add("gen_ai.request.temperature", 0.25);
  r->add("gen_ai.request.stream", false);
  r->add_array1("gen_ai.response.finish_reasons", "tool_calls");
  r->add_array("tags", {"a", "b\"c"});
  r->set_status(SpanStatus::Error, "upstream said \"no\"");
  simdjson::dom::parser parser;
  const std::string body = encode(*r);
  auto span = only_span(parser, body);
  CHECK(std::string_view(span["traceId"]) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(std::string_view(span["spanId"]) == "00f067aa0ba902b7");
  CHECK(std::string_view(span["parentSpanId"]) == "1111111111111111");
  CHECK(std::string_view(span["name"]) == "chat fast");
  CHECK(int64_t(span["kind"]) == 2);
  CHECK(std::string_view(span["endTimeUnixNano"]) == "1700000000250000000");
  auto a = span["attributes"];
  CHECK(std::string_view(a.at(0)["key"]) == "gen_ai.request.model");
  CHECK(std::string_view(a.at(0)["value"]["stringValue"]) == "fast");
  CHECK(std::string_view(a.at(1)["value"]["intValue"]) == "-7");
  CHECK(double(a.at(2)["value"]["doubleValue"]) == 0.25);
  CHECK_FALSE(bool(a.at(3)["value"]["boolValue"]));
  CHECK(std::string_view(a.at(4)["value"]["arrayValue"]["values"].at(0)["stringValue"]) == "tool_calls");
  CHECK(std::string_view(a.at(5)["value"]["arrayValue"]["values"].at(1)["stringValue"]) == "b\"c");
  CHECK(int64_t(span["status"]["code"]) == 2);
  CHECK(std::string_view(span["status"]["message"]) == "upstream said \"no\"");
  CHECK(span["droppedAttributesCount"].error() == simdjson::NO_SUCH_FIELD);
  // A root span has no parentSpanId at all.
  r->set_parent_span_id("");
  CHECK(only_span(parser, encode(*r))["parentSpanId"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("span record: attribute count and text limits drop or cut, never overflow") {
  auto r = std::make_unique<SpanRecord>();
  r->reset();
  r->set_trace_id("4bf92f3577b34da6a3ce929d0e0e4736");
  r->set_span_id("00f067aa0ba902b7");
  // A caller-chosen model name far beyond the text area, made of 3-byte UTF-8 characters:
  // the cut lands on a character boundary (simdjson rejects invalid UTF-8).
  std::string huge;
  for (int i = 0; i < 2000; ++i) huge += "\xE2\x82\xAC";  // €
  r->set_name("chat ", huge);
  for (size_t i = 0; i < SpanRecord::kMaxAttributes + 5; ++i) r->add("n", static_cast<int64_t>(i));
  CHECK(r->attribute_count() == SpanRecord::kMaxAttributes);
  CHECK(r->dropped_attributes() == 5);
  CHECK(r->name().size() <= SpanRecord::kTextBytes);
  CHECK(r->name().size() >= SpanRecord::kTextBytes - 2);
  simdjson::dom::parser parser;
  auto span = only_span(parser, encode(*r));
  const std::string_view name = span["name"];
  CHECK(name.substr(0, 5) == "chat ");
  CHECK((name.size() - 5) % 3 == 0);
  CHECK(int64_t(span["droppedAttributesCount"]) == 5);
  CHECK(span["attributes"].get_array().size() == SpanRecord::kMaxAttributes);

  // Span → record: keys copied; a string value is cut to the room left, a key never is.
  Span s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "00f067aa0ba902b7";
  s.name = "n";
  s.attributes = {{"first", std::string(300, 'x')},
                  {std::string(900, 'k'), true},  // longer than kMaxCopiedKey: dropped whole
                  {"third", int64_t{3}},
                  {"second", std::string(2000, 'y')}};
  SpanRecord::from_span(s, *r);
  auto span2 = only_span(parser, encode(*r));
  auto attrs = span2["attributes"];
  REQUIRE(attrs.get_array().size() == 3);
  CHECK(std::string_view(attrs.at(0)["value"]["stringValue"]).size() == 300);
  CHECK(std::string_view(attrs.at(1)["key"]) == "third");
  CHECK(std::string_view(attrs.at(1)["value"]["intValue"]) == "3");
  CHECK(std::string_view(attrs.at(2)["key"]) == "second");
  CHECK(std::string_view(attrs.at(2)["value"]["stringValue"]).size() == SpanRecord::kTextBytes - (1 + 5 + 300 + 5 + 6));
  CHECK(int64_t(span2["droppedAttributesCount"]) == 1);
}

namespace {

// Keep-alive HTTP collector on 127.0.0.1:0: one thread per connection, answers 200.
class Collector {
 public:
  Collector() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~Collector() {
    stop_ = true;
    boost::system::error_code ec;
    asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    for (auto& t : conns_) t.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  int connections() const { return connections_; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  void serve() {
    while (!stop_) {
      auto sock = std::make_shared<asio::ip::tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*sock, ec);
      if (ec || stop_) break;
      ++connections_;
      conns_.emplace_back([this, sock] {
        boost::beast::flat_buffer buf;
        for (;;) {
          http::request<http::string_body> req;
          boost::system::error_code e;
          http::read(*sock, buf, req, e);
          if (e) return;
          {
            std::lock_guard lock(mu_);
            bodies_.push_back(req.body());
          }
          http::response<http::string_body> res{http::status::ok, 11};
          res.body() = "{}";
          res.keep_alive(req.keep_alive());
          res.prepare_payload();
          http::write(*sock, res, e);
          if (e || !req.keep_alive()) return;
        }
      });
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::thread> conns_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("otlp exporter: spans submitted from several threads all arrive once, over one kept-alive connection") {
  Collector collector;
  OtlpExporterOptions o;
  o.endpoint = collector.endpoint();
  o.max_queue = 1 << 14;
  o.max_batch = 100;
  o.flush_interval_ms = 5;
  auto exporter = OtlpExporter::create(o);
  REQUIRE(exporter);
  constexpr int kThreads = 4, kEach = 1500;
  std::vector<std::thread> producers;
  std::atomic<int> accepted{0};
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      auto r = std::make_unique<SpanRecord>();
      for (int i = 0; i < kEach; ++i) {
        char id[17];
        std::snprintf(id, sizeof id, "%08x%08x", t + 1, i + 1);
        r->reset();
        r->set_trace_id("4bf92f3577b34da6a3ce929d0e0e4736");
        r->set_span_id(id);
        r->set_name("chat ", std::to_string(t));
        r->add("i", static_cast<int64_t>(i));
        accepted += (*exporter)->submit(*r) ? 1 : 0;
      }
    });
  }
  for (auto& p : producers) p.join();
  CHECK(accepted == kThreads * kEach);
  (*exporter)->flush();
  CHECK((*exporter)->exported() == static_cast<uint64_t>(kThreads * kEach));
  std::set<std::string> ids;
  size_t spans = 0;
  simdjson::dom::parser parser;
  const auto bodies = collector.bodies();
  for (const auto& body : bodies) {
    simdjson::dom::element doc = parser.parse(body);
    for (auto sp : doc["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].get_array()) {
      ids.insert(std::string(std::string_view(sp["spanId"])));
      ++spans;
    }
  }
  CHECK(spans == static_cast<size_t>(kThreads * kEach));
  CHECK(ids.size() == static_cast<size_t>(kThreads * kEach));
  CHECK(bodies.size() >= static_cast<size_t>(kThreads * kEach / 100));
  CHECK(collector.connections() == 1);
}

TEST_CASE("otlp exporter: a full batch is sent at once, without waiting for the flush interval") {
  Collector collector;
  OtlpExporterOptions o;
  o.endpoint = collector.endpoint();
  o.max_batch = 50;
  o.flush_interval_ms = 60'000;  // the timer alone would not send anything during this test
  auto exporter = OtlpExporter::create(o);
  REQUIRE(exporter);
  auto r = std::make_unique<SpanRecord>();
  for (int i = 0; i < 50; ++i) {
    r->reset();
    r->set_trace_id("4bf92f3577b34da6a3ce929d0e0e4736");
    r->set_span_id("00f067aa0ba902b7");
    r->set_name("batch");
    REQUIRE((*exporter)->submit(*r));
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*exporter)->exported() < 50 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK((*exporter)->exported() == 50);
}
