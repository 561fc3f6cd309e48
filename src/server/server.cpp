// Listeners, I/O threads, signals, drain and reload. One io_context per I/O thread; one
// acceptor (on worker 0) hands each new socket to the next worker round-robin, so a
// connection lives on exactly one thread and its session needs no locks.
#include "warden/server/server.hpp"

#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

#include "admin_endpoints.hpp"
#include "session.hpp"
#include "warden/telemetry/events.hpp"

namespace warden::server {

namespace {

// A remote provider with neither api_key nor an auth header in `headers` (e.g. an unset
// ${DEEPSEEK_API_KEY:-}) gets every request refused upstream: said once at start, by name.
void warn_missing_credentials(const config::Config& cfg) {
  for (const auto& [name, p] : cfg.providers) {
    if (p.type == config::ProviderType::Local || !p.api_key.empty()) continue;
    bool header_auth = false;
    for (const auto& [h, v] : p.headers)
      header_auth = header_auth || boost::beast::iequals(h, "authorization") || boost::beast::iequals(h, "x-api-key");
    if (!header_auth)
      spdlog::warn("provider '{}' has no api_key: its upstream will refuse every request (is its environment variable set?)",
                   name);
  }
}

}  // namespace

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, static_cast<int64_t>(st.st_size)};
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  config::ConfigStore store;
  EndpointTable table;
  EndpointTable admin_table;
  ServerState state;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<Worker>> workers;
  size_t next_worker = 0;
  Listener main_listener;
  Listener admin_listener;
  std::unique_ptr<tcp::acceptor> main_acceptor;
  std::unique_ptr<tcp::acceptor> admin_acceptor;
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<asio::ssl::context> admin_tls;

  static bool is_loopback(const std::string& host) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    return host == "localhost" || (!ec && addr.is_loopback());
  }

  // TLS 1.2+ with forward-secret AEAD suites only (ECDHE + AES-GCM / ChaCha20-Poly1305;
  // every TLS 1.3 suite is both): no static-RSA key exchange, no CBC, no compression or
  // renegotiation. Null (logged) when the certificate or key does not load.
  static std::unique_ptr<asio::ssl::context> make_tls_context(const config::TlsConfig& files, const char* what) {
    try {
      auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::single_dh_use | asio::ssl::context::no_compression);
      SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
      if (SSL_CTX_set_cipher_list(ctx->native_handle(),
                                  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
        throw std::runtime_error("no usable TLS 1.2 cipher suite");
      ctx->use_certificate_chain_file(files.cert);
      ctx->use_private_key_file(files.key, asio::ssl::context::pem);
      return ctx;
    } catch (const std::exception& e) {
      spdlog::error("{}: cannot load certificate/key: {}", what, e.what());
      return nullptr;
    }
  }
  FileStamp file_stamp;
  bool force_requested = false;
  int exit_code = 0;

  Impl(ServerOptions o, std::shared_ptr<const config::Config> initial, EndpointTable t, EndpointTable a)
      : options(std::move(o)), store(std::move(initial)), table(std::move(t)), admin_table(std::move(a)) {
    state.store = &store;
    state.config_path = options.config_path;
    main_listener.kind = Listener::Kind::Main;
    main_listener.table = &table;
    admin_listener.kind = Listener::Kind::Admin;
    admin_listener.table = &admin_table;
    register_server_admin_endpoints(admin_table, state);
    state.evict_idle = [this](const Listener& l) { return evict_idle(l); };
  }

  asio::io_context& control() { return *contexts[0]; }

  std::unique_ptr<tcp::acceptor> bind(const config::HostPort& hp, std::string& real, std::string& error) {
    boost::system::error_code ec;
    tcp::resolver resolver(control());
    auto results = resolver.resolve(hp.host, std::to_string(hp.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      error = "cannot resolve " + hp.to_string() + ": " + ec.message();
      return nullptr;
    }
    tcp::endpoint ep = results.begin()->endpoint();
    auto acc = std::make_unique<tcp::acceptor>(control());
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "cannot listen on " + hp.to_string() + ": " + ec.message();
      return nullptr;
    }
    auto local = acc->local_endpoint(ec);
    config::HostPort shown{local.address().to_string(), local.port()};
    real = shown.to_string();
    return acc;
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, Listener& listener) {
    asio::steady_timer wait(control());
    for (;;) {
      // At max_connections: admit up to kHealthReserve more as overflow connections (they
      // answer health checks at once; other requests wait in the session, evicting the
      // longest-idle keep-alive connection), then leave new ones in the kernel backlog.
      while (listener.admitted.load(std::memory_order_relaxed) >= store.current()->server.limits.max_connections) {
        if (listener.overflow.load(std::memory_order_relaxed) < kHealthReserve) break;
        wait.expires_after(milliseconds(5));
        co_await wait.async_wait(use_tuple);
        if (!acceptor.is_open()) co_return;
      }
      Worker& worker = *workers[next_worker++ % workers.size()];
      auto [ec, socket] = co_await acceptor.async_accept(*worker.ioc, use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // EMFILE and friends: back off instead of spinning.
        spdlog::warn("accept failed: {}", ec.message());
        wait.expires_after(milliseconds(50));
        co_await wait.async_wait(use_tuple);
        continue;
      }
      listener.connections.fetch_add(1, std::memory_order_relaxed);
      listener.overflow.fetch_add(1, std::memory_order_relaxed);
      // Counted as overflow until it takes a slot: a session that ended while we waited in
      // accept may have made room, and a slot the check above saw free may be gone (an
      // overflow session took it, or a reload lowered the limit).
      const bool overflow = !listener.try_admit(store.current()->server.limits.max_connections);
      auto start = [this, &listener, &worker, overflow, s = std::move(socket)]() mutable {
        auto* ctx = listener.kind == Listener::Kind::Main ? tls.get() : admin_tls.get();
        if (ctx) start_tls_session(std::move(s), *ctx, state, listener, worker, overflow);
        else start_plain_session(std::move(s), state, listener, worker, overflow);
      };
      asio::post(*worker.ioc, std::move(start));
    }
  }

  // ServerState::evict_idle: claims the connection of `listener` that has waited longest for
  // its next request and closes it on its own thread.
  bool evict_idle(const Listener& listener) {
    Worker* owner = nullptr;
    SessionHandle* victim = nullptr;
    int64_t since = -1;
    for (;;) {
      owner = nullptr;
      victim = nullptr;
      since = -1;
      for (auto& w : workers) {
        std::lock_guard lock(w->mu);
        for (auto* h : w->sessions) {
          if (h->listener != &listener) continue;
          int64_t t = h->idle_since.load(std::memory_order_acquire);
          if (t >= 0 && (since < 0 || t < since)) {
            since = t;
            victim = h;
            owner = w.get();
          }
        }
      }
      if (!victim) return false;
      std::lock_guard lock(owner->mu);
      bool alive = false;
      for (auto* h : owner->sessions) alive |= h == victim;
      // Claimed only if it is still there and still idle since the same instant.
      if (alive && victim->idle_since.compare_exchange_strong(since, -1, std::memory_order_acq_rel)) break;
    }
    asio::post(*owner->ioc, [owner, victim] {
      std::lock_guard lock(owner->mu);
      for (auto* h : owner->sessions)
        if (h == victim) {
          spdlog::debug("max_connections: closing the longest-idle connection to admit a new one");
          h->close();
          break;
        }
    });
    return true;
  }

  void reload(const char* trigger) {
    file_stamp = stamp_of(options.config_path);  // the watcher must not reload the same file again
    auto result = config::load_config(options.config_path);
    ReloadStatus status;
    status.at = iso8601_utc(std::chrono::system_clock::now());
    status.trigger = trigger;
    if (!result.ok()) {
      status.ok = false;
      for (const auto& d : result.diagnostics) {
        status.errors.push_back(d.to_string());
        spdlog::error("config reload failed: {}", d.to_string());
      }
      spdlog::error("config reload ({}) failed with {} error(s); keeping generation {}", trigger,
                    result.diagnostics.size(), store.current()->generation);
    } else {
      auto old = store.current();
      result.config->generation = old->generation + 1;
      if (options.listen_override) result.config->server.listen = *options.listen_override;
      if (!(result.config->server.listen.to_string() == old->server.listen.to_string()) ||
          result.config->server.threads != old->server.threads ||
          result.config->server.tls.has_value() != old->server.tls.has_value() ||
          result.config->server.admin_tls.has_value() != old->server.admin_tls.has_value())
        spdlog::warn("config reload: listeners, threads and TLS change only on restart");
      if (result.config->state_dir != old->state_dir) {
        // The running server holds the lock on its state_dir only (serve_command.cpp).
        spdlog::warn("config reload: state_dir changes only on restart; keeping {}", old->state_dir);
        result.config->state_dir = old->state_dir;
      }
      store.swap(result.config);
      spdlog::info("config reloaded ({}): generation {}", trigger, result.config->generation);
    }
    telemetry::count_config_reload(status.ok);
    std::lock_guard lock(state.reload_mu);
    state.last_reload = std::move(status);
  }

  asio::awaitable<void> watch_file() {
    asio::steady_timer timer(control());
    file_stamp = stamp_of(options.config_path);
    while (!state.draining) {
      timer.expires_after(milliseconds(1000));
      co_await timer.async_wait(use_tuple);
      if (state.draining) break;
      auto now = stamp_of(options.config_path);
      if (now.size < 0 || now == file_stamp) continue;
      // Wait until the writer is done (same stamp twice), so a half-written file is not read.
      timer.expires_after(milliseconds(200));
      co_await timer.async_wait(use_tuple);
      if (!(stamp_of(options.config_path) == now)) continue;
      file_stamp = now;
      reload("file_change");
    }
  }

  void close_sessions(bool idle_only) {
    for (auto& w : workers) {
      asio::post(*w->ioc, [w = w.get(), idle_only] {
        // Copy: close() may end a session, which erases itself later on this thread.
        std::vector<SessionHandle*> handles;
        {
          std::lock_guard lock(w->mu);
          handles.assign(w->sessions.begin(), w->sessions.end());
        }
        for (auto* h : handles)
          if (!idle_only || !h->busy) h->close();
      });
    }
  }

  int64_t open_connections() const {
    return main_listener.connections.load() + admin_listener.connections.load();
  }

  asio::awaitable<void> drain() {
    state.draining = true;
    boost::system::error_code ec;
    if (main_acceptor) main_acceptor->close(ec);
    if (admin_acceptor) admin_acceptor->close(ec);
    auto deadline_ms = store.current()->server.limits.drain_timeout_ms;
    spdlog::info("draining: {} connection(s) open, {} request(s) in flight, up to {} ms", open_connections(),
                 state.in_flight.load(), deadline_ms);
    close_sessions(true);
    asio::steady_timer timer(control());
    auto deadline = std::chrono::steady_clock::now() + milliseconds(deadline_ms);
    while (open_connections() > 0 && std::chrono::steady_clock::now() < deadline && !force_requested) {
      timer.expires_after(milliseconds(10));
      co_await timer.async_wait(use_tuple);
      close_sessions(true);  // sessions that finished their request and went idle
    }
    if (open_connections() > 0) {
      spdlog::warn("drain deadline: cancelling {} request(s) still in flight", state.in_flight.load());
      close_sessions(false);
      auto hard = std::chrono::steady_clock::now() + milliseconds(2000);
      while (open_connections() > 0 && std::chrono::steady_clock::now() < hard) {
        timer.expires_after(milliseconds(10));
        co_await timer.async_wait(use_tuple);
      }
    }
    spdlog::info("drained; exiting");
    for (auto& c : contexts) c->stop();
  }

  asio::awaitable<void> signals() {
    asio::signal_set set(control(), SIGINT, SIGTERM, SIGHUP);
    for (;;) {
      auto [ec, sig] = co_await set.async_wait(use_tuple);
      if (ec) co_return;
      if (sig == SIGHUP) {
        if (!state.draining) reload("sighup");
        continue;
      }
      if (state.draining) {
        spdlog::warn("second {}: cancelling in-flight requests now", sig == SIGINT ? "SIGINT" : "SIGTERM");
        force_requested = true;
        continue;
      }
      spdlog::info("{} received: stop accepting, finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
      asio::co_spawn(control(), drain(), asio::detached);
    }
  }

  int run() {
    auto cfg = store.current();
    unsigned n = cfg->server.threads > 0 ? static_cast<unsigned>(cfg->server.threads) : std::thread::hardware_concurrency();
    if (n == 0) n = 1;
    for (unsigned i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      auto w = std::make_unique<Worker>();
      w->ioc = contexts.back().get();
      workers.push_back(std::move(w));
    }

    if (cfg->server.tls) {
      tls = make_tls_context(*cfg->server.tls, "server.tls");
      if (!tls) return 1;
    }
    if (cfg->server.admin_tls) {
      admin_tls = make_tls_context(*cfg->server.admin_tls, "server.admin_tls");
      if (!admin_tls) return 1;
    }

    // Signals are handled by asio; block them in every thread we create.
    std::string error;
    main_acceptor = bind(cfg->server.listen, state.listen_address, error);
    if (!main_acceptor) {
      spdlog::error("{}", error);
      return 1;
    }
    if (cfg->server.admin_listen) {
      admin_acceptor = bind(*cfg->server.admin_listen, state.admin_listen_address, error);
      if (!admin_acceptor) {
        spdlog::error("{}", error);
        return 1;
      }
    }

    asio::co_spawn(control(), signals(), asio::detached);
    asio::co_spawn(control(), accept_loop(*main_acceptor, main_listener), asio::detached);
    if (admin_acceptor) asio::co_spawn(control(), accept_loop(*admin_acceptor, admin_listener), asio::detached);
    if (options.watch_config_file && !options.config_path.empty())
      asio::co_spawn(control(), watch_file(), asio::detached);

    warn_missing_credentials(*cfg);
    spdlog::info("listening on {}{}", state.listen_address, tls ? " (tls)" : "");
    if (admin_acceptor) spdlog::info("admin listening on {}{}", state.admin_listen_address, admin_tls ? " (tls)" : "");
    if (admin_acceptor && !admin_tls && !is_loopback(cfg->server.admin_listen->host))
      spdlog::warn("admin listener on {} without TLS: the admin token crosses the network in clear (set server.admin_tls)",
                   state.admin_listen_address);
    spdlog::info("{} I/O thread(s), config generation {} from {}", n, cfg->generation, options.config_path);

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < n; ++i) {
      threads.emplace_back([ctx = contexts[i].get()] {
        auto guard = asio::make_work_guard(*ctx);
        ctx->run();
      });
    }
    {
      auto guard = asio::make_work_guard(control());
      control().run();
    }
    for (auto& t : threads) t.join();
    return exit_code;
  }
};

Server::Server(ServerOptions options, std::shared_ptr<const config::Config> initial, EndpointTable table,
               EndpointTable admin)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(initial), std::move(table), std::move(admin))) {}

Server::~Server() = default;

int Server::run() { return impl_->run(); }

config::ConfigStore& Server::store() { return impl_->store; }

}  // namespace warden::server
