// FileWatcher with real inotify on a scratch directory: saves by rename and in-place
// writes are seen, a burst of writes is one callback, other files in the directory are not.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "warden/config/watch.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path scratch() {
  std::random_device rd;
  auto d = fs::temp_directory_path() / ("warden-watch-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// Waits until `count` reaches `want` (bounded), then a little longer to catch extras.
int settle(const std::atomic<int>& count, int want, std::chrono::milliseconds extra = 400ms) {
  auto end = std::chrono::steady_clock::now() + 5s;
  while (count.load() < want && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(extra);
  return count.load();
}

}  // namespace

TEST_CASE("file watcher: rename-over save, in-place write, unrelated files ignored, bursts debounced") {
  auto dir = scratch();
  auto file = dir / "warden.yaml";
  write(file, "a: 1\n");
  std::atomic<int> changes{0};
  std::string error;
  warden::config::FileWatcher watcher(file.string(), [&] { changes.fetch_add(1); }, 100ms, &error);
  REQUIRE(watcher.active());
  INFO(error);

  // Nothing happened yet.
  std::this_thread::sleep_for(250ms);
  CHECK(changes.load() == 0);

  // Editor-style save: temp file + rename over the original.
  write(dir / ".warden.yaml.swp", "a: 2\n");
  fs::rename(dir / ".warden.yaml.swp", file);
  CHECK(settle(changes, 1) == 1);

  // A second rename-save is still seen (the watch is on the directory, not the old inode).
  write(dir / ".warden.yaml.swp", "a: 3\n");
  fs::rename(dir / ".warden.yaml.swp", file);
  CHECK(settle(changes, 2) == 2);

  // In-place writes in a quick burst: one callback.
  for (int i = 0; i < 5; ++i) {
    write(file, "a: " + std::to_string(10 + i) + "\n");
    std::this_thread::sleep_for(10ms);
  }
  CHECK(settle(changes, 3) == 3);

  // Another file in the same directory: no callback.
  write(dir / "other.yaml", "b: 1\n");
  std::this_thread::sleep_for(400ms);
  CHECK(changes.load() == 3);
  fs::remove_all(dir);
}

TEST_CASE("file watcher: missing directory reports why; destruction stops callbacks") {
  std::string error;
  {
    warden::config::FileWatcher w("/nonexistent-dir-warden/x.yaml", [] {}, 50ms, &error);
    CHECK_FALSE(w.active());
    CHECK(error.find("inotify_add_watch") != std::string::npos);
  }
  auto dir = scratch();
  auto file = dir / "c.yaml";
  write(file, "x");
  std::atomic<int> changes{0};
  {
    warden::config::FileWatcher w(file.string(), [&] { changes.fetch_add(1); }, 300ms);
    write(file, "y");
    // Destroyed inside the debounce window: the pending callback never runs.
  }
  std::this_thread::sleep_for(500ms);
  CHECK(changes.load() == 0);
  fs::remove_all(dir);
}
