// Starts the real `warden serve` binary on port 0 and talks raw HTTP/1.1 to it: health,
// request ids, 404/405/413 in OpenAI shape, header and idle timeouts, the admin listener,
// SIGHUP reload keeping the old config on errors, and SIGTERM exiting 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool closed = false;  // server closed the connection
  std::string raw;
};

Response parse(const std::string& raw) {
  Response r;
  r.raw = raw;
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    auto eol = raw.find("\r\n", pos);
    auto line = raw.substr(pos, eol - pos);
    auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
    pos = eol + 2;
  }
  r.body = raw.substr(head_end + 4);
  return r;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `data` and reads until the server closes or `wait` passes without a close.
Response send_raw(int port, const std::string& data, std::chrono::milliseconds wait = 5000ms) {
  int fd = connect_to(port);
  REQUIRE(fd >= 0);
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  std::string raw;
  bool closed = false;
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  Response r = parse(raw);
  r.closed = closed;
  return r;
}

Response get(int port, const std::string& path, const std::string& extra_headers = "") {
  return send_raw(port, "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + extra_headers + "\r\n");
}

class Warden {
 public:
  explicit Warden(const std::string& yaml, std::vector<std::string> extra_args = {}) {
    dir_ = fs::temp_directory_path() / ("warden-serve-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    config_ = (dir_ / "warden.yaml").string();
    write_config(yaml);
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
    posix_spawn_file_actions_addclose(&actions, pipefd[0]);
    std::vector<std::string> args{WARDEN_BINARY, "serve", "-c", config_, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(posix_spawn(&pid_, WARDEN_BINARY, &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipefd[1]);
    reader_ = std::thread([this, fd = pipefd[0]] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        std::lock_guard lock(mu_);
        logs_.append(buf, static_cast<size_t>(n));
      }
      ::close(fd);
    });
    port_ = wait_for_port(std::regex(R"((^|\s)listening on 127\.0\.0\.1:(\d+))"));
  }

  ~Warden() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (reader_.joinable()) reader_.join();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  int wait_for_port(const std::regex& re) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        std::smatch m;
        if (std::regex_search(logs_, m, re)) return std::stoi(m[2]);
      }
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("warden exited early:\n" << logs());
      }
      std::this_thread::sleep_for(20ms);
    }
    FAIL("warden did not log its listening line:\n" << logs());
    return -1;
  }

  void write_config(const std::string& yaml) {
    std::ofstream(config_) << yaml;
  }

  std::string logs() {
    std::lock_guard lock(mu_);
    return logs_;
  }

  // Signals and waits; returns the exit status (or -1 on timeout).
  int stop(int sig, std::chrono::milliseconds wait = 10s) {
    ::kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& config_path() const { return config_; }

 private:
  static inline std::atomic<int> counter_{0};
  fs::path dir_;
  std::string config_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::string logs_;
};

const std::string kConfig = R"(server:
  limits: {max_body_bytes: 4096, header_timeout_ms: 300, idle_timeout_ms: 400}
  admin_listen: 127.0.0.1:0
  admin_token: admin-secret-token-1
  access_log: {format: json}
providers:
  up: {type: openai, base_url: "http://127.0.0.1:9", api_key: sk-upstream-secret-9}
models:
  fast: {targets: [{provider: up, model: m}]}
)";

bool is_openai_error(const Response& r, const std::string& code) {
  return r.headers.count("content-type") && r.headers.at("content-type") == "application/json" &&
         r.body.rfind(R"({"error":{"message":)", 0) == 0 &&
         r.body.find(R"("type":"invalid_request_error","param":null,"code":")" + code + "\"}}") != std::string::npos;
}

}  // namespace

TEST_CASE("serve: health, request ids, 404/405/413, timeouts, admin, reload, drain", "[server][process]") {
  Warden w(kConfig, {"--no-watch"});
  const int port = w.port();

  SECTION("healthz and readyz answer 200 JSON with a generated request id") {
    auto r = get(port, "/healthz");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"status":"ok"})");
    REQUIRE(r.headers.count("x-request-id"));
    CHECK(std::regex_match(r.headers["x-request-id"], std::regex("[0-9a-f]{32}")));
    auto r2 = get(port, "/healthz");
    CHECK(r2.headers["x-request-id"] != r.headers["x-request-id"]);
    CHECK(get(port, "/readyz").status == 200);
  }

  SECTION("a sane caller request id is kept, an unsafe one replaced") {
    auto r = get(port, "/healthz", "X-Request-Id: req.ABC_123-x\r\n");
    CHECK(r.headers["x-request-id"] == "req.ABC_123-x");
    auto bad = get(port, "/healthz", "X-Request-Id: a/b<script>\r\n");
    CHECK(bad.headers["x-request-id"] != "a/b<script>");
    CHECK(std::regex_match(bad.headers["x-request-id"], std::regex("[0-9a-f]{32}")));
    auto longer = get(port, "/healthz", "X-Request-Id: " + std::string(129, 'a') + "\r\n");
    CHECK(longer.headers["x-request-id"].size() == 32);
  }

  SECTION("unknown path → 404, wrong method → 405, both OpenAI-shaped") {
    auto r = get(port, "/v1/nope");
    CHECK(r.status == 404);
    CHECK(is_openai_error(r, "not_found"));
    CHECK(r.headers.count("x-request-id"));
    auto m = send_raw(port, "POST /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    CHECK(m.status == 405);
    CHECK(is_openai_error(m, "method_not_allowed"));
    auto a = get(port, "/anthropic/v1/nope");
    CHECK(a.status == 404);
    CHECK(a.body.rfind(R"({"type":"error","error":{"type":"not_found_error")", 0) == 0);
  }

  SECTION("a body over max_body_bytes → 413 before it is read") {
    std::string body(5000, 'x');
    auto r = send_raw(port, "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                            "Content-Length: " + std::to_string(body.size()) + "\r\nX-Request-Id: big-1\r\n\r\n" + body);
    CHECK(r.status == 413);
    CHECK(is_openai_error(r, "request_too_large"));
    CHECK(r.headers["x-request-id"] == "big-1");
    CHECK(r.closed);
    // Chunked bodies are limited too.
    std::string chunked = "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 6; ++i) chunked += "400\r\n" + std::string(1024, 'y') + "\r\n";
    chunked += "0\r\n\r\n";
    CHECK(send_raw(port, chunked).status == 413);
  }

  SECTION("slow headers: the connection is closed; idle keep-alive is closed") {
    auto t0 = std::chrono::steady_clock::now();
    auto r = send_raw(port, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ", 5000ms);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(r.closed);
    // Beast closes the socket on a read timeout, so there is no 408 to read (like nginx).
    CHECK((r.status == 0 || r.status == 408));
    CHECK(took < 3s);
    auto idle = send_raw(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 5000ms);
    CHECK(idle.status == 200);
    CHECK(idle.closed);
    // A connection that never sends anything is closed too.
    auto silent = send_raw(port, "", 5000ms);
    CHECK(silent.closed);
  }

  SECTION("keep-alive: two requests on one connection") {
    auto r = send_raw(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK(r.raw.find("HTTP/1.1 200") != std::string::npos);
    CHECK(r.raw.find(R"({"status":"ready"})") != std::string::npos);
    CHECK(r.closed);
  }

  SECTION("admin listener: bearer token required; /admin/config; SIGHUP reload keeps the old config on errors") {
    int admin_port = w.wait_for_port(std::regex(R"((admin) listening on 127\.0\.0\.1:(\d+))"));
    CHECK(get(admin_port, "/admin/config").status == 401);
    CHECK(get(admin_port, "/admin/config", "Authorization: Bearer wrong\r\n").status == 401);
    auto ok = get(admin_port, "/admin/config", "Authorization: Bearer admin-secret-token-1\r\n");
    CHECK(ok.status == 200);
    CHECK(ok.body.find(R"("generation":1)") != std::string::npos);
    CHECK(ok.body.find(R"("models":["fast"])") != std::string::npos);
    CHECK(ok.body.find("sk-upstream-secret-9") == std::string::npos);
    // The admin endpoints are not on the main listener.
    CHECK(get(port, "/admin/config", "Authorization: Bearer admin-secret-token-1\r\n").status == 404);

    // A broken edit: reload fails, generation stays 1, the error names file:line:col.
    w.write_config(kConfig + "bogus_section: 1\n");
    ::kill(w.pid(), SIGHUP);
    std::string body;
    for (int i = 0; i < 100; ++i) {
      body = get(admin_port, "/admin/config", "Authorization: Bearer admin-secret-token-1\r\n").body;
      if (body.find(R"("ok":false)") != std::string::npos) break;
      std::this_thread::sleep_for(50ms);
    }
    CHECK(body.find(R"("ok":false)") != std::string::npos);
    CHECK(body.find(R"("generation":1)") != std::string::npos);
    CHECK(body.find(w.config_path() + ":10:1: unknown key 'bogus_section'") != std::string::npos);
    CHECK(get(port, "/healthz").status == 200);

    // A good edit: generation 2, new alias visible.
    w.write_config(kConfig + "  faster: {targets: [{provider: up, model: m2}]}\n");
    ::kill(w.pid(), SIGHUP);
    for (int i = 0; i < 100; ++i) {
      body = get(admin_port, "/admin/config", "Authorization: Bearer admin-secret-token-1\r\n").body;
      if (body.find(R"("generation":2)") != std::string::npos) break;
      std::this_thread::sleep_for(50ms);
    }
    CHECK(body.find(R"("generation":2)") != std::string::npos);
    CHECK(body.find(R"("models":["fast","faster"])") != std::string::npos);
  }

  SECTION("access log: one JSON line per request, no secrets") {
    get(port, "/healthz", "X-Request-Id: log-check-1\r\n");
    std::string logs;
    for (int i = 0; i < 50; ++i) {
      logs = w.logs();
      if (logs.find(R"("request_id":"log-check-1")") != std::string::npos) break;
      std::this_thread::sleep_for(20ms);
    }
    CHECK(logs.find(R"("type":"access","listener":"main","request_id":"log-check-1","method":"GET","path":"/healthz")") !=
          std::string::npos);
    CHECK(logs.find("sk-upstream-secret-9") == std::string::npos);
    CHECK(logs.find("admin-secret-token-1") == std::string::npos);
  }

  SECTION("SIGTERM: listener closes and the process exits 0") {
    CHECK(w.stop(SIGTERM) == 0);
    CHECK(connect_to(port) < 0);
  }
}

TEST_CASE("serve: a config error exits 1 with file:line:col", "[server][process]") {
  auto dir = fs::temp_directory_path() / ("warden-serve-bad-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto path = (dir / "bad.yaml").string();
  std::ofstream(path) << "server:\n  listn: 127.0.0.1:0\n";
  std::string cmd = std::string(WARDEN_BINARY) + " serve -c " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = ::pclose(p);
  CHECK(WEXITSTATUS(st) == 1);
  CHECK(out.find(path + ":2:3: unknown key 'listn' in server (did you mean 'listen'?)") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("serve: TLS listener from server.tls", "[server][process][tls]") {
  auto dir = fs::temp_directory_path() / ("warden-serve-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto cert = (dir / "cert.pem").string();
  auto key = (dir / "key.pem").string();
  std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout " + key +
                    " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(gen.c_str()) == 0);
  Warden w("server:\n  tls: {cert: " + cert + ", key: " + key + "}\n");
  std::string cmd = "printf 'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Request-Id: tls-1\\r\\nConnection: close\\r\\n\\r\\n' | "
                    "timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(w.port()) +
                    " -servername localhost -quiet 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  CHECK(out.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(out.find("x-request-id: tls-1") != std::string::npos);
  CHECK(out.find(R"({"status":"ok"})") != std::string::npos);
  // Plain HTTP to the TLS port gets no HTTP answer.
  auto plain = get(w.port(), "/healthz");
  CHECK(plain.status == 0);
  fs::remove_all(dir);
}
