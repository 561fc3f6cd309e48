#pragma once
// Watches one config file for saves with inotify. The DIRECTORY is watched, not the file:
// editors and config managers save by writing a temp file and renaming it over the
// original (a new inode), which a watch on the file itself would miss after the first
// save. Events for the file's name are debounced (a burst of writes → one callback once
// the file has been quiet for `debounce`), then `on_change` runs on the watcher's thread.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace warden::config {

class FileWatcher {
 public:
  // Starts watching at once. `error` (optional) says why not when active() is false
  // (no inotify, directory missing); the caller may fall back to polling.
  FileWatcher(std::string path, std::function<void()> on_change,
              std::chrono::milliseconds debounce = std::chrono::milliseconds(150), std::string* error = nullptr);
  ~FileWatcher();  // stops and joins the thread; on_change is not called afterwards
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  bool active() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::config
