#pragma once
// A real TCP (optionally TLS) HTTP/1.1 server on 127.0.0.1:0 for provider tests. Each
// accepted connection runs a script on its own thread with blocking I/O, so a script can
// send bytes in any split, sleep, hang or reset exactly as an upstream would.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/read.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fake {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Conn {
 public:
  Conn(tcp::socket s, asio::ssl::context* ssl) : sock_(std::move(s)) {
    if (ssl) {
      tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock_, *ssl);
      boost::system::error_code ec;
      tls_->handshake(asio::ssl::stream_base::server, ec);
      ok_ = !ec;
    }
  }
  bool ok() const { return ok_; }
  // Reads one request (head + content-length body). Empty when the peer closed.
  std::string read_request() {
    while (true) {
      auto head_end = buf_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t len = 0;
        auto lower = buf_.substr(0, head_end);
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto cl = lower.find("content-length:");
        if (cl != std::string::npos) len = std::stoul(lower.substr(cl + 15));
        if (buf_.size() >= head_end + 4 + len) {
          std::string req = buf_.substr(0, head_end + 4 + len);
          buf_.erase(0, head_end + 4 + len);
          return req;
        }
      }
      char tmp[4096];
      boost::system::error_code ec;
      size_t n = tls_ ? tls_->read_some(asio::buffer(tmp), ec) : sock_.read_some(asio::buffer(tmp), ec);
      if (ec || n == 0) return {};
      buf_.append(tmp, n);
    }
  }
  bool write(std::string_view s) {
    boost::system::error_code ec;
    if (tls_) asio::write(*tls_, asio::buffer(s.data(), s.size()), ec);
    else asio::write(sock_, asio::buffer(s.data(), s.size()), ec);
    return !ec;
  }
  void chunk(std::string_view s) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%zx\r\n", s.size());
    write(std::string(hex) + std::string(s) + "\r\n");
  }
  // Blocks until the peer closes (true) or `timeout` passes (false).
  bool wait_closed(std::chrono::milliseconds timeout) {
    sock_.non_blocking(true);
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      char tmp[256];
      boost::system::error_code ec;
      size_t n = sock_.read_some(asio::buffer(tmp), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (ec || n == 0) return true;
    }
    return false;
  }
  void reset() {
    sock_.set_option(asio::socket_base::linger(true, 0));
    boost::system::error_code ec;
    sock_.close(ec);
  }
  void close() {
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }

 private:
  tcp::socket sock_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::string buf_;
  bool ok_ = true;
};

class Server {
 public:
  using Script = std::function<void(Conn&)>;
  explicit Server(Script script, asio::ssl::context* ssl = nullptr)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), script_(std::move(script)), ssl_(ssl) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { run(); });
  }
  ~Server() {
    stop_ = true;
    boost::system::error_code ec;
    // Wake the blocking accept with a connection of our own.
    tcp::socket s(io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
    for (auto& t : workers_) t.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  std::vector<std::string> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }
  void record(std::string r) {
    std::lock_guard l(mu_);
    requests_.push_back(std::move(r));
  }

 private:
  void run() {
    while (!stop_) {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) break;
      ++accepted_;
      workers_.emplace_back([this, sock = std::move(s)]() mutable {
        Conn c(std::move(sock), ssl_);
        if (c.ok()) script_(c);
      });
    }
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  Script script_;
  asio::ssl::context* ssl_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

inline const char* kSseHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

}  // namespace fake
