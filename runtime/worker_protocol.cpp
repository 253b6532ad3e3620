#include "worker_protocol.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace evoprompt::worker {
namespace {

constexpr std::uint32_t kMaxFrame = 64u << 20;  // a child's source is capped far below this

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw std::runtime_error(std::string("worker pipe: write failed: ") + std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// false at end of file before the first byte
bool read_all(int fd, char* p, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw std::runtime_error(std::string("worker pipe: read failed: ") + std::strerror(errno));
    if (r == 0) {
      if (got == 0) return false;
      throw std::runtime_error("worker pipe: truncated message");
    }
    got += static_cast<std::size_t>(r);
  }
  return true;
}

std::uint32_t length_of(const char* p) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[3])) << 24;
}

}  // namespace

void send_message(int fd, const nlohmann::json& message) {
  const std::string body = message.dump();
  if (body.size() > kMaxFrame) throw std::runtime_error("worker pipe: message too large");
  const auto n = static_cast<std::uint32_t>(body.size());
  std::string frame{static_cast<char>(n & 0xff), static_cast<char>(n >> 8 & 0xff), static_cast<char>(n >> 16 & 0xff),
                    static_cast<char>(n >> 24 & 0xff)};
  frame += body;
  write_all(fd, frame.data(), frame.size());
}

std::optional<nlohmann::json> receive_message(int fd) {
  char header[4];
  if (!read_all(fd, header, 4)) return std::nullopt;
  const std::uint32_t n = length_of(header);
  if (n > kMaxFrame) throw std::runtime_error("worker pipe: frame too large");
  std::string body(n, '\0');
  if (n && !read_all(fd, body.data(), n)) throw std::runtime_error("worker pipe: truncated message");
  return nlohmann::json::parse(body);
}

std::optional<nlohmann::json> FrameReader::next() {
  if (buffer_.size() < 4) return std::nullopt;
  const std::uint32_t n = length_of(buffer_.data());
  if (n > kMaxFrame) throw std::runtime_error("worker pipe: frame too large");
  if (buffer_.size() < 4 + static_cast<std::size_t>(n)) return std::nullopt;
  auto message = nlohmann::json::parse(buffer_.begin() + 4, buffer_.begin() + 4 + n);
  buffer_.erase(0, 4 + static_cast<std::size_t>(n));
  return message;
}

nlohmann::json to_json(const ChildResult& r) {
  return {{"verdict", to_string(r.verdict)},         {"rule", r.rule},           {"message", r.message},
          {"diagnostics", r.diagnostics}, {"params_used", r.params_used}, {"params_total", r.params_total},
          {"best_val_acc", r.best_val_acc}, {"best_step", r.best_step}, {"test_acc", r.test_acc},
          {"compile_ms", r.compile_ms},   {"train_ms", r.train_ms},   {"steps", r.steps},
          {"steps_per_s", r.steps_per_s}, {"step_path", r.step_path}};
}

ChildResult child_result_from(const nlohmann::json& j) {
  ChildResult r;
  const auto verdict = verdict_from_string(j.at("verdict").get<std::string>());
  if (!verdict) throw std::runtime_error("worker pipe: unknown verdict " + j.at("verdict").dump());
  r.verdict = *verdict;
  r.rule = j.at("rule");
  r.message = j.at("message");
  r.diagnostics = j.at("diagnostics").get<std::vector<std::string>>();
  r.params_used = j.at("params_used");
  r.params_total = j.at("params_total");
  r.best_val_acc = j.at("best_val_acc");
  r.best_step = j.at("best_step");
  r.test_acc = j.at("test_acc");
  r.compile_ms = j.at("compile_ms");
  r.train_ms = j.at("train_ms");
  r.steps = j.at("steps");
  r.steps_per_s = j.at("steps_per_s");
  r.step_path = j.at("step_path");
  return r;
}

}  // namespace evoprompt::worker
