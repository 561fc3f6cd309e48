// OpenAICompatProvider against a real fake upstream over TCP/TLS on 127.0.0.1.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fake_upstream.hpp"
#include "warden/config/providers.hpp"
#include "warden/providers/openai_compat/openai_compat_provider.hpp"
#include "warden/providers/openai_compat/response_parser.hpp"

using namespace warden;
using namespace warden::providers;
using api::StreamEvent;
using Type = api::StreamEvent::Type;
using namespace std::chrono_literals;

namespace {

struct CollectSink : EventSink {
  std::vector<StreamEvent> events;
  bool committed_ = false;
  int refuse_after = -1;  // refuse (caller gone) once this many events arrived
  asio::awaitable<bool> emit(StreamEvent ev) override {
    if (ev.type != Type::KeepAlive) committed_ = true;
    events.push_back(std::move(ev));
    co_return refuse_after < 0 || static_cast<int>(events.size()) < refuse_after;
  }
  bool committed() const override { return committed_; }
  std::string text(Type t) const {
    std::string s;
    for (const auto& e : events)
      if (e.type == t) s += e.text;
    return s;
  }
  int count(Type t) const {
    int n = 0;
    for (const auto& e : events) n += e.type == t;
    return n;
  }
};

config::ProviderConfig provider_cfg(uint16_t port, std::string path = "/v1", bool tls = false) {
  config::ProviderConfig c;
  c.name = "deepseek";
  c.type = config::ProviderType::OpenAI;
  c.base_url = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + path;
  c.api_key = "sk-upstream-secret";
  c.reasoning_echo = config::ReasoningEcho::Required;
  c.timeouts.connect_ms = 2000;
  c.timeouts.first_byte_ms = 3000;
  c.timeouts.idle_ms = 3000;
  c.timeouts.total_ms = 10000;
  return c;
}

api::ChatRequest chat(bool stream) {
  api::ChatRequest r;
  r.model = "deepseek-v4-pro";
  r.stream = stream;
  api::Message m;
  m.role = "user";
  m.content.push_back(api::ContentPart{api::ContentPart::Type::Text, "hi", ""});
  r.messages.push_back(m);
  return r;
}

// Pooled connections belong to the io_context that made them, which must outlive them
// (as the server's contexts do): one context per test, shared by its requests.
asio::io_context& test_io() {
  static asio::io_context* io = new asio::io_context;
  return *io;
}

Outcome run(OpenAICompatProvider& p, const api::ChatRequest& req, CollectSink& sink) {
  asio::io_context& io = test_io();
  io.restart();
  Outcome out;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await p.stream(req, sink); }, asio::detached);
  io.run();
  return out;
}

std::string data(std::string_view json) { return "data: " + std::string(json) + "\n\n"; }

void stream_answer(fake::Conn& c) {
  c.write(fake::kSseHead);
  c.chunk(": keep-alive\n\n");
  c.chunk(data(R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"deepseek-v4-pro","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"finish_reason":null}],"usage":null})"));
  // One event split across three chunks at awkward offsets, with \r\n line ends.
  std::string ev = "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"reasoning_content\":\"Let me think\"},\"finish_reason\":null}]}\r\n\r\n";
  c.chunk(ev.substr(0, 7));
  c.chunk(ev.substr(7, 40));
  c.chunk(ev.substr(47));
  c.chunk(data(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]})") +
          data(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]})"));
  c.chunk(data(R"({"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]})"));
  c.chunk(data(R"({"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]})"));
  c.chunk(data(R"({"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"));
  c.chunk(data(R"({"id":"c1","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36,"completion_tokens_details":{"reasoning_tokens":30}}})"));
  c.chunk("data: [DONE]\n\n");
  c.write("0\r\n\r\n");
}

}  // namespace

TEST_CASE("openai provider streams reasoning, content, tool calls, usage; injects its own key", "[provider]") {
  fake::Server* srv_ptr = nullptr;
  fake::Server srv([&](fake::Conn& c) {
    for (;;) {
      auto req = c.read_request();
      if (req.empty()) return;
      srv_ptr->record(req);
      stream_answer(c);
    }
  });
  srv_ptr = &srv;
  OpenAICompatProvider p(provider_cfg(srv.port(), "/v1/"));
  CHECK(p.chat_path() == "/v1/chat/completions");
  CollectSink sink;
  auto req = chat(true);
  Outcome o = run(p, req, sink);
  INFO(o.error.message);
  REQUIRE(o.ok);
  CHECK(o.usage.present);
  CHECK(o.usage.prompt_tokens == 100);
  CHECK(o.usage.cache_hit_tokens == 64);
  CHECK(o.usage.reasoning_tokens == 30);
  CHECK(o.finish_reason == "tool_calls");
  CHECK(o.response_model == "deepseek-v4-pro");
  REQUIRE(!sink.events.empty());
  CHECK(sink.events[0].type == Type::KeepAlive);
  CHECK(sink.events[1].type == Type::Start);
  CHECK(sink.events[1].id == "c1");
  CHECK(sink.text(Type::Reasoning) == "Let me think");
  CHECK(sink.text(Type::Content) == "Hello");
  REQUIRE(sink.count(Type::ToolCall) == 2);
  CHECK(sink.count(Type::Finish) == 1);
  CHECK(sink.count(Type::Usage) == 1);

  auto reqs = srv.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0) == 0);
  CHECK(reqs[0].find("authorization: Bearer sk-upstream-secret\r\n") != std::string::npos);
  CHECK(reqs[0].find(R"("stream_options":{"include_usage":true})") != std::string::npos);

  // A second request reuses the kept-alive connection.
  CollectSink sink2;
  Outcome o2 = run(p, req, sink2);
  CHECK(o2.ok);
  CHECK(srv.accepted() == 1);
  CHECK(srv.requests().size() == 2);
}

TEST_CASE("openai provider: non-stream body after blank-line keep-alives", "[provider]") {
  fake::Server srv([](fake::Conn& c) {
    if (c.read_request().empty()) return;
    const std::string body =
        R"({"id":"r1","object":"chat.completion","created":1,"model":"deepseek-v4-flash","choices":[{"index":0,"finish_reason":"stop","logprobs":null,"message":{"role":"assistant","content":"Hi there","reasoning_content":"thought"}}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4}}})";
    c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.chunk("\n");
    std::this_thread::sleep_for(50ms);
    c.chunk("\n\n");
    c.chunk(body.substr(0, 10));
    c.chunk(body.substr(10));
    c.write("0\r\n\r\n");
  });
  OpenAICompatProvider p(provider_cfg(srv.port(), ""));
  CHECK(p.chat_path() == "/chat/completions");
  CollectSink sink;
  Outcome o = run(p, chat(false), sink);
  INFO(o.error.message);
  REQUIRE(o.ok);
  CHECK(sink.count(Type::KeepAlive) >= 1);
  CHECK(sink.text(Type::Content) == "Hi there");
  CHECK(sink.text(Type::Reasoning) == "thought");
  CHECK(o.finish_reason == "stop");
  CHECK(o.usage.cache_hit_tokens == 4);
  CHECK(o.response_model == "deepseek-v4-flash");
}

TEST_CASE("openai provider keeps upstream error status and message; retryable per status", "[provider]") {
  struct Case {
    int status;
    std::string extra_headers;
    std::string body;
    bool retryable;
    std::string message;
    std::string code;
  };
  const Case cases[] = {
      {402, "", R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}})",
       false, "Insufficient Balance", "invalid_request_error"},
      {429, "Retry-After: 2\r\n", R"({"error":{"message":"Rate limit reached","type":"rate_limit_error"}})", true,
       "Rate limit reached", "rate_limit_exceeded"},
      {500, "", "<html>oops</html>", true, "upstream returned HTTP 500: <html>oops</html>", "upstream_error"},
      {400, "", R"({"error":{"message":"bad param","type":"invalid_request_error","param":"messages","code":"x"}})",
       false, "bad param", "x"},
      {503, "", "", true, "upstream returned HTTP 503", "upstream_error"},
  };
  for (const auto& cs : cases) {
    fake::Server srv([&](fake::Conn& c) {
      if (c.read_request().empty()) return;
      c.write("HTTP/1.1 " + std::to_string(cs.status) + " X\r\nContent-Type: application/json\r\n" + cs.extra_headers +
              "Content-Length: " + std::to_string(cs.body.size()) + "\r\n\r\n" + cs.body);
      c.wait_closed(2s);
    });
    OpenAICompatProvider p(provider_cfg(srv.port()));
    CollectSink sink;
    Outcome o = run(p, chat(true), sink);
    INFO("status " << cs.status);
    CHECK_FALSE(o.ok);
    CHECK(o.upstream_status == cs.status);
    CHECK(o.error.http_status == cs.status);
    CHECK(o.error.message == cs.message);
    CHECK(o.error.code == cs.code);
    CHECK(o.retryable == cs.retryable);
    CHECK(sink.events.empty());
    if (cs.status == 429) {
      REQUIRE(o.retry_after.has_value());
      CHECK(o.retry_after->count() == 2000);
    }
  }
}

TEST_CASE("openai provider: timeouts before the first byte and between payloads", "[provider]") {
  SECTION("hang before the first byte is a retryable 504") {
    fake::Server srv([](fake::Conn& c) {
      if (c.read_request().empty()) return;
      c.wait_closed(3s);
    });
    auto cfg = provider_cfg(srv.port());
    cfg.timeouts.first_byte_ms = 300;
    OpenAICompatProvider p(cfg);
    CollectSink sink;
    auto t0 = std::chrono::steady_clock::now();
    Outcome o = run(p, chat(true), sink);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK_FALSE(o.ok);
    CHECK(o.error.http_status == 504);
    CHECK(o.error.code == "upstream_timeout");
    CHECK(o.retryable);
    CHECK(took >= 290ms);
    CHECK(took < 2s);
  }
  SECTION("keep-alive comments do not reset the idle timer") {
    fake::Server srv([](fake::Conn& c) {
      if (c.read_request().empty()) return;
      c.write(fake::kSseHead);
      c.chunk(data(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]})"));
      for (int i = 0; i < 30; ++i) {
        std::this_thread::sleep_for(50ms);
        c.chunk(": keep-alive\n\n");
      }
      c.wait_closed(1s);
    });
    auto cfg = provider_cfg(srv.port());
    cfg.timeouts.idle_ms = 400;
    OpenAICompatProvider p(cfg);
    CollectSink sink;
    auto t0 = std::chrono::steady_clock::now();
    Outcome o = run(p, chat(true), sink);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK_FALSE(o.ok);
    CHECK(o.error.code == "upstream_timeout");
    CHECK_FALSE(o.retryable);
    CHECK(sink.count(Type::KeepAlive) >= 3);
    CHECK(sink.text(Type::Content) == "a");
    CHECK(took >= 390ms);
    CHECK(took < 1400ms);
  }
}

TEST_CASE("openai provider: reset mid-stream fails with the stream committed; connect errors retry", "[provider]") {
  {
    fake::Server srv([](fake::Conn& c) {
      if (c.read_request().empty()) return;
      c.write(fake::kSseHead);
      c.chunk(data(R"({"id":"c1","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]})"));
      std::this_thread::sleep_for(50ms);
      c.reset();
    });
    OpenAICompatProvider p(provider_cfg(srv.port()));
    CollectSink sink;
    Outcome o = run(p, chat(true), sink);
    CHECK_FALSE(o.ok);
    CHECK(o.error.http_status == 502);
    CHECK(o.error.code == "upstream_reset");
    CHECK(sink.committed());
    CHECK(sink.text(Type::Content) == "partial");
  }
  {
    uint16_t port;
    {
      fake::Server closed([](fake::Conn&) {});
      port = closed.port();
    }  // nothing listens there now
    OpenAICompatProvider p(provider_cfg(port));
    CollectSink sink;
    Outcome o = run(p, chat(true), sink);
    CHECK_FALSE(o.ok);
    CHECK(o.error.code == "upstream_connect_error");
    CHECK(o.retryable);
    CHECK(o.upstream_status == 0);
  }
}

TEST_CASE("openai provider: cancelling the coroutine closes the upstream connection", "[provider]") {
  std::atomic<bool> saw_close{false};
  fake::Server srv([&](fake::Conn& c) {
    if (c.read_request().empty()) return;
    c.write(fake::kSseHead);
    c.chunk(": keep-alive\n\n");
    saw_close = c.wait_closed(3s);
  });
  OpenAICompatProvider p(provider_cfg(srv.port()));
  CollectSink sink;
  asio::io_context io;
  asio::cancellation_signal cancel;
  Outcome out;
  bool finished = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await p.stream(chat(true), sink); finished = true; },
                 asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  asio::steady_timer t(io, 300ms);
  t.async_wait([&](auto) { cancel.emit(asio::cancellation_type::terminal); });
  auto t0 = std::chrono::steady_clock::now();
  io.run();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(finished);
  CHECK_FALSE(out.ok);
  CHECK(out.error.code == "client_closed_request");
  std::this_thread::sleep_for(100ms);
  CHECK(saw_close);
  CHECK(p.pool()->idle_connections() == 0);
}

TEST_CASE("openai provider: a sink that refuses stops the upstream read", "[provider]") {
  fake::Server srv([](fake::Conn& c) {
    if (c.read_request().empty()) return;
    stream_answer(c);
    c.wait_closed(1s);
  });
  OpenAICompatProvider p(provider_cfg(srv.port()));
  CollectSink sink;
  sink.refuse_after = 3;
  Outcome o = run(p, chat(true), sink);
  CHECK_FALSE(o.ok);
  CHECK(o.error.code == "client_closed_request");
  CHECK(sink.events.size() == 3);
}

TEST_CASE("openai provider over TLS verifies the certificate and the host name", "[provider][tls]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("warden_tls_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string d = dir.string();
  auto sh = [](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
  // A CA, and a server certificate for 127.0.0.1 signed by it; a second one for another name.
  REQUIRE(sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=warden-test-ca -keyout " + d +
             "/ca.key -out " + d + "/ca.pem") == 0);
  for (std::string name : {"good", "wrong"}) {
    const std::string san = name == "good" ? "IP:127.0.0.1,DNS:localhost" : "DNS:other.example";
    REQUIRE(sh("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + d + "/" + name +
               ".key -out " + d + "/" + name + ".csr") == 0);
    std::ofstream(d + "/" + name + ".ext") << "subjectAltName=" << san << "\n";
    REQUIRE(sh("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/ca.pem -CAkey " + d +
               "/ca.key -CAcreateserial -days 1 -extfile " + d + "/" + name + ".ext -out " + d + "/" + name +
               ".pem") == 0);
  }
  auto server_ctx = [&](const std::string& name) {
    auto ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    ctx->use_certificate_chain_file(d + "/" + name + ".pem");
    ctx->use_private_key_file(d + "/" + name + ".key", boost::asio::ssl::context::pem);
    return ctx;
  };
  auto script = [](fake::Conn& c) {
    if (c.read_request().empty()) return;
    stream_answer(c);
    c.wait_closed(1s);
  };

  SECTION("trusted CA and matching name") {
    auto ctx = server_ctx("good");
    fake::Server srv(script, ctx.get());
    auto cfg = provider_cfg(srv.port(), "/v1", true);
    cfg.ca_file = d + "/ca.pem";
    OpenAICompatProvider p(cfg);
    CollectSink sink;
    Outcome o = run(p, chat(true), sink);
    INFO(o.error.message);
    CHECK(o.ok);
    CHECK(sink.text(Type::Content) == "Hello");
  }
  SECTION("certificate for another host name") {
    auto ctx = server_ctx("wrong");
    fake::Server srv(script, ctx.get());
    auto cfg = provider_cfg(srv.port(), "/v1", true);
    cfg.ca_file = d + "/ca.pem";
    OpenAICompatProvider p(cfg);
    CollectSink sink;
    Outcome o = run(p, chat(true), sink);
    CHECK_FALSE(o.ok);
    CHECK(o.error.code == "upstream_connect_error");
    CHECK(o.error.message.find("TLS") != std::string::npos);
  }
  SECTION("CA not trusted (system store)") {
    auto ctx = server_ctx("good");
    fake::Server srv(script, ctx.get());
    OpenAICompatProvider p(provider_cfg(srv.port(), "/v1", true));
    CollectSink sink;
    Outcome o = run(p, chat(true), sink);
    CHECK_FALSE(o.ok);
    CHECK(o.error.code == "upstream_connect_error");
  }
  fs::remove_all(dir);
}

TEST_CASE("response parser reads DeepSeek chunks and in-band errors", "[provider]") {
  auto c = openai_compat::parse_chunk(
      R"({"id":"x","model":"m","choices":[{"index":1,"delta":{"reasoning_content":"r","content":"c","tool_calls":[{"index":2,"id":"call","function":{"name":"f","arguments":"{"}}]},"finish_reason":"length"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"prompt_cache_hit_tokens":5}})");
  REQUIRE(c.events.size() == 5);
  CHECK(c.events[0].type == Type::Reasoning);
  CHECK(c.events[0].choice == 1);
  CHECK(c.events[1].type == Type::Content);
  CHECK(c.events[2].type == Type::ToolCall);
  CHECK(c.events[2].tool_call.index == 2);
  CHECK(c.events[2].tool_call.name == "f");
  CHECK(c.events[3].finish_reason == "length");
  CHECK(c.events[4].usage.cache_hit_tokens == 5);
  auto e = openai_compat::parse_chunk(R"({"error":{"message":"overloaded","type":"server_error"}})");
  REQUIRE(e.error.has_value());
  CHECK(e.error->message == "overloaded");
  CHECK(openai_compat::parse_chunk("{nope").malformed);
}
