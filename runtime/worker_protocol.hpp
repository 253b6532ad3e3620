// The supervisor <-> worker wire format: each message is a 4-byte
// little-endian length and that many bytes of JSON, over a pipe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "evaluator.hpp"

namespace evoprompt::worker {

// Whole-message write; throws std::runtime_error when the pipe is gone.
void send_message(int fd, const nlohmann::json& message);
// Blocking read of one message; nullopt at end of file. Throws on a
// malformed frame.
std::optional<nlohmann::json> receive_message(int fd);

// Incremental reader for a non-blocking fd: feed() what read() returned,
// then take whole messages out.
class FrameReader {
 public:
  void feed(const char* data, std::size_t size) { buffer_.append(data, size); }
  std::optional<nlohmann::json> next();

 private:
  std::string buffer_;
};

nlohmann::json to_json(const ChildResult& r);
ChildResult child_result_from(const nlohmann::json& j);


}  // namespace evoprompt::worker
