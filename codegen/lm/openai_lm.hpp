// The `openai:URL` back-end: any OpenAI-compatible HTTP server (llama.cpp
// server, vLLM, Ollama, the OpenAI API) over libcurl.
//
// Rules (each one tested in tests/test_openai_lm.cpp):
// * Requests. Samples of equal temperature go out as one request with `n`;
//   a server that returns fewer choices than asked (llama.cpp and Ollama
//   ignore `n`) is asked again with n=1 until the group is full. Each HTTP
//   request carries its own seed, mixed from SampleRequest::seed and the
//   run-wide index of its first sample and kept to 31 bits, so n=1 top-ups
//   differ from each other and replays repeat (servers disagree on how wide a
//   seed may be). A server that rejects n > 1 (llama.cpp: HTTP 400, or 500 in
//   older builds, "Only one completion choice is allowed") is asked with n=1
//   from then on, for the life of this object.
// * Text. The completion is cut at the first stop sequence, for servers that
//   return it. An empty text is a valid completion. In chat mode the text is
//   the message content, as the model wrote it (no fence stripping here).
// * Tokens. Usage is per HTTP request: its prompt tokens go to the first
//   completion taken from it, its completion tokens are split evenly over the
//   completions taken from it (the remainder to the first ones), so sums over
//   completions match the server's totals.
// * Retries. 408, 429, 5xx, timeouts, connection errors and 200 responses
//   that are not a valid completion JSON are retried up to max_retries times,
//   waiting backoff_initial_s, doubling, at most backoff_max_s; a
//   `Retry-After: <seconds>` header on 429/503 replaces that wait (clamped to
//   max_retry_after_s). Other 4xx are not retried: LanguageModelError naming
//   the status and the server's message.
// * Exhausted retries. When the last attempt got no HTTP response
//   (connection refused, timeout) or a 429, the back-end as a whole cannot go
//   on: LanguageModelError. When it got a 5xx or an invalid body, something
//   about this request failed: the samples of that request get
//   Completion::error and the others go on.
// * Caps. Every HTTP attempt, retries included, counts as a request. Before
//   an attempt, LanguageModelError when max_requests attempts were made or
//   when max_total_tokens tokens (prompt + completion) were already spent; the
//   token cap can thus be overshot by one response.
// * The API key is read once from the environment and only ever sent in the
//   Authorization header; no message names it.
// * Concurrency. A call's temperature groups go out together, each on its
//   own connection; sample() may be called from several threads. At most
//   `concurrency` HTTP requests are in flight at once, over all of them;
//   usage counters and caps are shared.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "language_model.hpp"

namespace evoprompt::codegen {

struct OpenAiOptions {
  std::string base_url;                    // e.g. http://127.0.0.1:8080/v1
  std::string model;                       // sent as "model" when not empty
  std::string api = "completions";         // or "chat"
  std::string api_key_env = "OPENAI_API_KEY";  // empty: never send a key
  double timeout_s = 300;                  // whole request, connect included
  double connect_timeout_s = 10;           // at most timeout_s
  int max_retries = 5;                     // extra attempts after the first
  double backoff_initial_s = 1.0;
  double backoff_max_s = 60.0;
  double max_retry_after_s = 600;          // clamp on a server's Retry-After
  std::int64_t max_requests = 0;           // 0 = no cap
  std::int64_t max_total_tokens = 0;       // 0 = no cap
  int concurrency = 16;                    // HTTP requests in flight at once, over all threads
  // Waits between attempts; empty: std::this_thread::sleep_for. For tests.
  std::function<void(double seconds)> sleep;
};

// The system message of the chat API.
inline constexpr const char* kChatSystemMessage =
    "You complete C++ code. Continue the user's text exactly where it ends and answer with the "
    "code only: no explanation, no Markdown fences.";

class OpenAiLanguageModel : public LanguageModel {
 public:
  struct Usage {
    std::int64_t requests = 0;           // HTTP attempts sent, retries included
    std::int64_t prompt_tokens = 0;      // as the server reported them
    std::int64_t completion_tokens = 0;
    std::int64_t retries = 0;            // attempts that repeated a failed one
  };

  // Throws std::invalid_argument on an empty base_url, an unknown api or a
  // non-positive timeout.
  explicit OpenAiLanguageModel(OpenAiOptions options);

  std::string name() const override;
  std::vector<Completion> sample(const SampleRequest& request) override;
  int max_concurrent_calls() const override { return kAnyConcurrency; }
  // One request per distinct temperature: a call's groups go out together.
  int requests_for(const SampleRequest& request) const override;
  // GET {base}/models, within seconds and outside the request cap: no HTTP
  // answer, or a model list without options.model, is a LanguageModelError.
  // A server without /models (404) passes.
  void check_ready() override;

  Usage usage() const;
  const OpenAiOptions& options() const { return options_; }
  // The endpoint requests go to: base_url + "/completions" or "/chat/completions".
  const std::string& endpoint() const { return endpoint_; }

 private:
  // Sends one request for `n` samples; appends what it got to `out`. False:
  // the server refused n > 1, and nothing was appended.
  bool request_group(void* curl, const SampleRequest& request, double temperature, int n,
                     std::uint64_t first_index, std::vector<Completion>& out);
  std::string request_body(const SampleRequest& request, double temperature, int n,
                           std::uint64_t first_index) const;
  void reserve_request(bool retry);
  class RequestSlot;  // one of the `concurrency` requests in flight
  void wait(double seconds) const;

  OpenAiOptions options_;
  std::string endpoint_;
  std::string api_key_;
  mutable std::mutex mutex_;
  std::condition_variable slot_free_;
  int requests_in_flight_ = 0;
  Usage usage_;
  std::atomic<bool> single_choice_{false};  // the server refuses n > 1
};

}  // namespace evoprompt::codegen
