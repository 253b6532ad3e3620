#include "run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace evoprompt::engine {
namespace {

long read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? std::strtol(buf, nullptr, 10) : 0;
}

}  // namespace

RunLocked::RunLocked(const std::string& dir, long holder)
    : std::runtime_error(dir + " is being run by another evoprompt driver (pid " + std::to_string(holder) +
                         "); wait for it to end, or stop it, before evolve --resume"),
      pid(holder) {}

std::string RunLock::path_in(const std::string& dir) { return dir + "/driver.lock"; }

RunLock RunLock::acquire(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create run folder " + dir + ": " + ec.message());
  const std::string path = path_in(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const long holder = read_pid(fd);
    ::close(fd);
    throw RunLocked(dir, holder);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
  }
  return RunLock(fd);
}

void RunLock::check_free(const std::string& dir) {
  const int fd = ::open(path_in(dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // never driven, or by a version without the lock
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  const long holder = held ? read_pid(fd) : 0;
  ::close(fd);  // also drops the shared lock taken to probe
  if (held) throw RunLocked(dir, holder);
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace evoprompt::engine
