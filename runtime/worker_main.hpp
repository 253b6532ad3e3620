// The worker side of evaluation in separate processes: `evoprompt __worker`
// runs this with the request pipe on fd 3 and the reply pipe on fd 4.
#pragma once

namespace evoprompt::worker {

inline constexpr int kRequestFd = 3;
inline constexpr int kReplyFd = 4;

// Reads {"op":"init",...}, builds the task's in-process evaluator, then
// answers {"op":"evaluate",...} requests until the request pipe closes.
// Returns the process exit code.
int run_worker();

}  // namespace evoprompt::worker
