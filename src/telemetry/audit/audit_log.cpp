#include "warden/common/json_quote.hpp"
#include "warden/telemetry/audit/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "warden/policy/crypto.hpp"

namespace warden::telemetry {

namespace {

void append_escaped(std::string& out, std::string_view s) { append_json_quoted(out, s); }

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

constexpr std::string_view kHashKey = ",\"hash\":\"";
constexpr std::string_view kPrevKey = ",\"prev\":\"";

struct ParsedLine {
  bool ok = false;
  std::string error;
  int64_t seq = -1;
  std::string prev, hash, type, chain_hmac;
};

std::string field_string(std::string_view prefix, std::string_view name) {
  std::string key = "\"" + std::string(name) + "\":\"";
  auto at = prefix.find(key);
  if (at == std::string_view::npos) return "";
  auto start = at + key.size();
  auto end = prefix.find('"', start);
  if (end == std::string_view::npos) return "";
  return std::string(prefix.substr(start, end - start));
}

ParsedLine parse_line(std::string_view line) {
  ParsedLine p;
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') {
    p.error = "not a JSON object line";
    return p;
  }
  auto h = line.rfind(kHashKey);
  if (h == std::string_view::npos) {
    p.error = "no hash field";
    return p;
  }
  std::string_view prefix = line.substr(0, h);
  std::string_view hash_part = line.substr(h + kHashKey.size());
  if (hash_part.size() != 66 || hash_part.substr(64) != "\"}") {
    p.error = "malformed hash field";
    return p;
  }
  p.hash = std::string(hash_part.substr(0, 64));
  auto pv = prefix.rfind(kPrevKey);
  if (pv == std::string_view::npos || prefix.size() != pv + kPrevKey.size() + 65) {
    p.error = "malformed prev field";
    return p;
  }
  p.prev = std::string(prefix.substr(pv + kPrevKey.size(), 64));
  if (policy::sha256_hex(prefix) != p.hash) {
    p.error = "record hash does not match its content (edited)";
    return p;
  }
  if (prefix.rfind("{\"seq\":", 0) != 0) {
    p.error = "no seq";
    return p;
  }
  p.seq = std::strtoll(std::string(prefix.substr(7, 20)).c_str(), nullptr, 10);
  p.type = field_string(prefix, "type");
  p.chain_hmac = field_string(prefix, "chain_hmac");
  p.ok = true;
  return p;
}

// The last complete line of a file (and the byte offset where a torn tail starts).
struct Tail {
  std::string last_line;
  int64_t good_size = 0;
  int64_t file_size = 0;
};

Tail read_tail(const std::string& path) {
  Tail t;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return t;
  t.file_size = static_cast<int64_t>(in.tellg());
  int64_t window = std::min<int64_t>(t.file_size, 1 << 20);
  std::string buf(static_cast<size_t>(window), '\0');
  in.seekg(t.file_size - window);
  in.read(buf.data(), window);
  auto last_nl = buf.rfind('\n');
  if (last_nl == std::string::npos) {
    t.good_size = window == t.file_size ? 0 : t.file_size;  // a >1 MB line: leave it alone
    return t;
  }
  t.good_size = t.file_size - window + static_cast<int64_t>(last_nl) + 1;
  auto prev_nl = last_nl == 0 ? std::string::npos : buf.rfind('\n', last_nl - 1);
  size_t start = prev_nl == std::string::npos ? 0 : prev_nl + 1;
  t.last_line = buf.substr(start, last_nl - start);
  return t;
}

std::vector<std::string> rotated_files(const std::string& path) {
  // path.1, path.2, ... oldest first
  std::vector<std::string> out;
  for (int n = 1;; ++n) {
    std::string p = path + "." + std::to_string(n);
    if (!std::filesystem::exists(p)) break;
    out.push_back(p);
  }
  return out;
}

}  // namespace

std::string AuditLog::seal(const std::string& body, const std::string& prev, std::string* hash_out) {
  // body is `{"seq":N,...` without the closing brace
  std::string prefix = body;
  prefix += kPrevKey;
  prefix += prev;
  prefix += '"';
  std::string hash = policy::sha256_hex(prefix);
  if (hash_out) *hash_out = hash;
  prefix += kHashKey;
  prefix += hash;
  prefix += "\"}\n";
  return prefix;
}

AuditLog::AuditLog(std::string path, std::string secret, std::string fsync_mode, int64_t checkpoint_every,
                   int64_t max_bytes)
    : path_(std::move(path)),
      secret_(std::move(secret)),
      fsync_mode_(std::move(fsync_mode)),
      checkpoint_every_(checkpoint_every > 0 ? checkpoint_every : 100),
      max_bytes_(max_bytes) {
  std::error_code ec;
  auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // Recover the chain head. A crash can leave a partial last line: cut it off (it was
  // never acknowledged) so the chain continues from the last whole record.
  Tail tail = read_tail(path_);
  if (tail.file_size > tail.good_size) {
    torn_bytes_ = tail.file_size - tail.good_size;
    if (::truncate(path_.c_str(), tail.good_size) != 0)
      throw std::runtime_error("cannot truncate torn tail of " + path_);
  }
  if (tail.last_line.empty()) {
    auto older = rotated_files(path_);
    if (!older.empty()) tail = read_tail(older.back());
  }
  if (!tail.last_line.empty()) {
    ParsedLine p = parse_line(tail.last_line);
    if (p.seq >= 0) {
      seq_ = p.seq;
      // Even if the last record is damaged, keep its claimed hash: verify will name it.
      head_ = p.hash.size() == 64 ? p.hash : head_;
    }
  }
  open_file();
  thread_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (int old : retired_fds_) ::close(old);  // appended after the writer stopped: rare
  if (fd_ >= 0) {
    if (fsync_mode_ != "none") ::fsync(fd_);
    ::close(fd_);
  }
}

void AuditLog::open_file() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open audit file " + path_ + ": " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd_, &st);
  size_ = st.st_size;
}

void AuditLog::maybe_rotate() {
  if (max_bytes_ <= 0 || size_ < max_bytes_) return;
  // Under mu_ on the appending thread: the old descriptor goes to the writer thread, which
  // syncs (per policy) and closes it, so no request waits for a disk flush here.
  retired_fds_.push_back(fd_);
  fd_ = -1;
  dirty_ = true;
  auto older = rotated_files(path_);
  std::string target = path_ + "." + std::to_string(older.size() + 1);
  std::error_code ec;
  std::filesystem::rename(path_, target, ec);
  if (ec) std::fprintf(stderr, "audit: rotating %s failed: %s\n", path_.c_str(), ec.message().c_str());
  try {
    open_file();  // the chain head carries over: the new file's first prev is the old last hash
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit: %s\n", e.what());
  }
}

void AuditLog::append(AuditEvent ev) {
  if (ev.time.empty()) ev.time = now_rfc3339();
  {
    // The record reaches the file (the page cache) before append returns, so a killed
    // process (kill -9) loses no record a request finished with; the writer thread only
    // syncs (per fsync policy), outside this lock.
    std::lock_guard lock(mu_);
    write_record(ev);
    ++written_;
    dirty_ = true;
  }
  cv_.notify_one();
}

void AuditLog::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = written_;
  cv_.notify_one();
  done_cv_.wait(lock, [&] { return synced_ >= target || stop_; });
}

std::string AuditLog::next_line(const std::string& body_fields) {
  ++seq_;
  std::string body = "{\"seq\":" + std::to_string(seq_) + body_fields;
  std::string hash;
  std::string line = seal(body, head_, &hash);
  head_ = hash;
  return line;
}

void AuditLog::write_record(const AuditEvent& ev) {
  std::string out;
  {
    std::string f;
    f += ",\"time\":";
    append_escaped(f, ev.time);
    f += ",\"type\":";
    append_escaped(f, ev.type.empty() ? std::string("request") : ev.type);
    if (!ev.action.empty()) {
      f += ",\"action\":";
      append_escaped(f, ev.action);
    }
    f += ",\"request_id\":";
    append_escaped(f, ev.request_id);
    f += ",\"key_id\":";
    append_escaped(f, ev.key_id);
    f += ",\"team\":";
    append_escaped(f, ev.team);
    f += ",\"alias\":";
    append_escaped(f, ev.alias);
    f += ",\"target\":";
    append_escaped(f, ev.target);
    f += ",\"status\":" + std::to_string(ev.status);
    f += ",\"prompt_tokens\":" + std::to_string(ev.prompt_tokens);
    f += ",\"completion_tokens\":" + std::to_string(ev.completion_tokens);
    f += ",\"cache_hit_tokens\":" + std::to_string(ev.cache_hit_tokens);
    char cost[48];
    std::snprintf(cost, sizeof cost, "%.8f", ev.cost_usd);
    f += ",\"cost_usd\":";
    f += cost;
    f += ",\"latency_ms\":" + std::to_string(ev.latency_ms);
    f += ",\"decisions\":{";
    bool first = true;
    for (const auto& [k, v] : ev.decisions) {
      if (!first) f += ',';
      first = false;
      append_escaped(f, k);
      f += ':' + std::to_string(v);
    }
    f += '}';
    out += next_line(f);
    // Rotation happens between records, so a file never ends mid-chain-step.
    if (max_bytes_ > 0 && size_ + static_cast<int64_t>(out.size()) >= max_bytes_) write_out(out);
    if (++since_checkpoint_ >= checkpoint_every_) {
      since_checkpoint_ = 0;
      std::string c = ",\"time\":\"" + now_rfc3339() + "\",\"type\":\"checkpoint\",\"records\":" +
                      std::to_string(checkpoint_every_) + ",\"chain_hmac\":\"" +
                      policy::hmac_sha256_hex(secret_, head_) + "\"";
      out += next_line(c);
    }
  }
  write_out(out);
}

void AuditLog::write_out(std::string& out) {
  // One write per group of lines: O_APPEND keeps lines whole.
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::write(fd_, out.data() + off, out.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "audit: write to %s failed: %s\n", path_.c_str(), std::strerror(errno));
      break;
    }
    off += static_cast<size_t>(n);
  }
  size_ += static_cast<int64_t>(off);
  out.clear();
  maybe_rotate();
}

void AuditLog::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || dirty_; });
    if (!dirty_ && stop_) break;
    dirty_ = false;
    const uint64_t target = written_;
    std::vector<int> retired;
    retired.swap(retired_fds_);
    const bool sync = fsync_mode_ == "always" || fsync_mode_ == "batch";
    // Sync a duplicate descriptor without the lock: appends go on meanwhile (they are the
    // next group), and a rotation may replace fd_.
    const int fd = sync && fd_ >= 0 ? ::dup(fd_) : -1;
    lock.unlock();
    for (int old : retired) {  // files rotated away: their last records, then close
      if (sync) ::fsync(old);
      ::close(old);
    }
    if (fd >= 0) {
      ::fdatasync(fd);
      ::close(fd);
    }
    lock.lock();
    synced_ = std::max(synced_, target);
    done_cv_.notify_all();
  }
  done_cv_.notify_all();
}

VerifyReport verify_audit_files(const std::vector<std::string>& files, const std::string& secret) {
  VerifyReport r;
  std::string prev;
  int64_t expect_seq = -1;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    const auto& file = files[fi];
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      r.ok = false;
      r.first_bad = file + ": cannot open";
      return r;
    }
    std::string line;
    int64_t lineno = 0;
    auto fail = [&](int64_t seq, const std::string& why) {
      r.ok = false;
      r.first_bad = file + ":" + std::to_string(lineno) + (seq >= 0 ? " (seq " + std::to_string(seq) + ")" : "") +
                    ": " + why;
    };
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      ++lineno;
      if (nl == std::string::npos) {
        fail(-1, "torn last line (no newline): an interrupted write");
        return r;
      }
      std::string_view l(content.data() + pos, nl - pos);
      pos = nl + 1;
      ParsedLine p = parse_line(l);
      if (!p.ok) {
        // Name the record by its seq when the text still shows one.
        int64_t seq = -1;
        if (l.rfind("{\"seq\":", 0) == 0) seq = std::strtoll(std::string(l.substr(7, 20)).c_str(), nullptr, 10);
        fail(seq, p.error);
        return r;
      }
      if (prev.empty()) {
        // First record seen: genesis, or a continuation of an older rotated file.
        if (p.prev != kGenesisHash && fi != 0) {
          fail(p.seq, "chain does not start at genesis");
          return r;
        }
      } else if (p.prev != prev) {
        fail(p.seq, expect_seq >= 0 && p.seq != expect_seq
                        ? "expected seq " + std::to_string(expect_seq) + " (record deleted, inserted or reordered)"
                        : "prev hash does not match the previous record (record deleted, inserted or reordered)");
        return r;
      }
      if (expect_seq >= 0 && p.seq != expect_seq) {
        fail(p.seq, "expected seq " + std::to_string(expect_seq));
        return r;
      }
      if (p.type == "checkpoint") {
        ++r.checkpoints;
        if (!secret.empty()) {
          if (policy::hmac_sha256_hex(secret, p.prev) != p.chain_hmac) {
            fail(p.seq, "checkpoint HMAC does not match (chain rewritten or wrong secret)");
            return r;
          }
          ++r.checkpoints_verified;
        }
      } else {
        ++r.records;
      }
      prev = p.hash;
      expect_seq = p.seq + 1;
    }
  }
  return r;
}

}  // namespace warden::telemetry
