#include "warden/config/watch.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace warden::config {

struct FileWatcher::Impl {
  std::string dir;
  std::string name;
  std::function<void()> on_change;
  std::chrono::milliseconds debounce;
  int inotify_fd = -1;
  int stop_fd = -1;  // eventfd: the destructor wakes the thread with it
  std::thread thread;

  ~Impl() {
    if (thread.joinable()) {
      uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(stop_fd, &one, sizeof one);
      thread.join();
    }
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (stop_fd >= 0) ::close(stop_fd);
  }

  // True when the buffer holds an event for our file name (or the directory itself moved).
  bool relevant(const char* buf, ssize_t len) const {
    for (const char* p = buf; p < buf + len;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(p);
      if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) return true;
      if (ev->len > 0 && name == ev->name) return true;
      p += sizeof(inotify_event) + ev->len;
    }
    return false;
  }

  void run() {
    alignas(inotify_event) char buf[16 * 1024];
    bool pending = false;
    for (;;) {
      pollfd fds[2] = {{stop_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
      // Waiting for a quiet period after the last relevant event: a save is often
      // several events (create, writes, close, rename).
      const int timeout = pending ? static_cast<int>(debounce.count()) : -1;
      int n = ::poll(fds, 2, timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents) return;
      if (n == 0) {  // quiet for `debounce`
        pending = false;
        on_change();
        continue;
      }
      if (fds[1].revents & POLLIN) {
        ssize_t len = ::read(inotify_fd, buf, sizeof buf);
        if (len > 0 && relevant(buf, len)) pending = true;
      }
    }
  }
};

FileWatcher::FileWatcher(std::string path, std::function<void()> on_change, std::chrono::milliseconds debounce,
                         std::string* error)
    : impl_(std::make_unique<Impl>()) {
  std::filesystem::path p(path);
  impl_->dir = p.has_parent_path() ? p.parent_path().string() : std::string(".");
  impl_->name = p.filename().string();
  impl_->on_change = std::move(on_change);
  impl_->debounce = debounce;
  impl_->inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  impl_->stop_fd = ::eventfd(0, EFD_CLOEXEC);
  auto fail = [&](const char* what) {
    if (error) *error = std::string(what) + ": " + std::strerror(errno);
  };
  if (impl_->inotify_fd < 0 || impl_->stop_fd < 0) {
    fail("inotify_init1/eventfd");
    return;
  }
  // CLOSE_WRITE: written in place; MOVED_TO: renamed over; CREATE: new file; DELETE then
  // CREATE is also a save for some tools. ATTRIB catches `touch`.
  const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_DELETE | IN_MOVE_SELF | IN_DELETE_SELF;
  if (::inotify_add_watch(impl_->inotify_fd, impl_->dir.c_str(), mask) < 0) {
    fail(("inotify_add_watch " + impl_->dir).c_str());
    return;
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

FileWatcher::~FileWatcher() = default;

bool FileWatcher::active() const { return impl_->thread.joinable(); }

}  // namespace warden::config
