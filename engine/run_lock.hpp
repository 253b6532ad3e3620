// One driver per run folder. The driver holds an exclusive flock on
// DIR/driver.lock for as long as it lives; the kernel releases it however the
// driver ends (kill -9 included), so --resume works after a crash. The file
// holds the driver's pid, for the message that refuses a second driver.
// Readers (show, dump, replay) take no lock.
#pragma once

#include <stdexcept>
#include <string>

namespace evoprompt::engine {

// Another live driver holds the run folder.
class RunLocked : public std::runtime_error {
 public:
  RunLocked(const std::string& dir, long pid);
  long pid;
};

class RunLock {
 public:
  // Takes the lock of `dir`, creating the folder and the lock file when
  // missing. Throws RunLocked when a live driver holds it, std::runtime_error
  // when the file cannot be made.
  static RunLock acquire(const std::string& dir);
  // Throws RunLocked when a live driver holds `dir`; writes nothing.
  static void check_free(const std::string& dir);
  static std::string path_in(const std::string& dir);

  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace evoprompt::engine
