#include "openai_lm.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <future>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

namespace evoprompt::codegen {
namespace {

using nlohmann::json;

// A response larger than this is not a completion; stop reading it.
constexpr std::size_t kMaxBodyBytes = std::size_t{64} << 20;

void init_curl_once() {
  // curl_global_init is not thread-safe; easy handles made from several
  // threads would otherwise race on it.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct HttpResult {
  CURLcode code = CURLE_OK;
  long status = 0;             // 0: no HTTP response at all
  std::string body;
  std::string error;           // curl's message when code != CURLE_OK
  double retry_after = -1.0;   // seconds; -1: no usable header
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const std::size_t bytes = size * count;
  if (body->size() + bytes > kMaxBodyBytes) return 0;  // curl aborts with a write error
  body->append(data, bytes);
  return bytes;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* result = static_cast<HttpResult*>(user);
  const std::size_t bytes = size * count;
  const std::string line(data, bytes);
  // A new status line (after a 100 Continue, say) starts a new header set.
  if (line.rfind("HTTP/", 0) == 0) result->retry_after = -1.0;
  const auto colon = line.find(':');
  if (colon != std::string::npos && lower(trim(line.substr(0, colon))) == "retry-after") {
    // Only the delta-seconds form; an HTTP date falls back to the backoff.
    const std::string value = trim(line.substr(colon + 1));
    char* end = nullptr;
    const double seconds = std::strtod(value.c_str(), &end);
    if (!value.empty() && end == value.c_str() + value.size() && std::isfinite(seconds) && seconds >= 0)
      result->retry_after = seconds;
  }
  return bytes;
}

long to_ms(double seconds) { return static_cast<long>(std::ceil(seconds * 1000.0)); }

// A POST with `body`, or a GET when `get`.
HttpResult post(CURL* curl, const std::string& url, const std::string& body, const curl_slist* headers,
                double timeout_s, double connect_timeout_s, bool get = false) {
  HttpResult result;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (get) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, to_ms(timeout_s));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, to_ms(std::min(connect_timeout_s, timeout_s)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in threads
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "evoprompt");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  result.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  if (result.code != CURLE_OK) result.error = error_buffer[0] ? error_buffer : curl_easy_strerror(result.code);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  return result;
}

// One line, short enough for a log or a journal field.
std::string one_line(const std::string& text, std::size_t max_chars = 300) {
  std::string line;
  for (char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t';
    if (space && (line.empty() || line.back() == ' ')) continue;
    line += space ? ' ' : c;
  }
  line = trim(line);
  if (line.size() > max_chars) line = line.substr(0, max_chars) + "...";
  return line;
}

// The error text servers put in a body: OpenAI, vLLM and llama.cpp use
// {"error": {"message": ...}}, Ollama's native API {"error": "..."}, FastAPI
// {"detail": ...}.
std::string server_message(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    const auto error = j.find("error");
    if (error != j.end()) {
      if (error->is_string()) return one_line(error->get<std::string>());
      if (error->is_object()) {
        const auto message = error->find("message");
        if (message != error->end() && message->is_string()) return one_line(message->get<std::string>());
      }
    }
    for (const char* key : {"message", "detail"}) {
      const auto found = j.find(key);
      if (found != j.end()) return one_line(found->is_string() ? found->get<std::string>() : found->dump());
    }
  }
  if (trim(body).empty()) return "(empty body)";
  return one_line(body);
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void cut_at_stop(std::string& text, const std::vector<std::string>& stop) {
  std::size_t cut = std::string::npos;
  for (const auto& s : stop) {
    if (s.empty()) continue;
    cut = std::min(cut, text.find(s));
  }
  if (cut != std::string::npos) text.resize(cut);
}

struct Choice {
  std::string text;
  std::string finish_reason;
  std::int64_t index = 0;
};

struct Parsed {
  std::vector<Choice> choices;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

std::int64_t token_count(const json& usage, const char* key) {
  const auto found = usage.find(key);
  if (found == usage.end() || !found->is_number()) return 0;
  return found->is_number_float() ? static_cast<std::int64_t>(found->get<double>()) : found->get<std::int64_t>();
}

// False with `why` when the body is not a completion response.
bool parse_response(const std::string& body, bool chat, Parsed& parsed, std::string& why) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = "not a JSON object (" + std::to_string(body.size()) + " bytes)";
    return false;
  }
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) {
    why = j.contains("error") ? "no choices: " + server_message(body) : "no choices";
    return false;
  }
  for (std::size_t i = 0; i < choices->size(); ++i) {
    const json& c = (*choices)[i];
    if (!c.is_object()) {
      why = "choice " + std::to_string(i) + " is not an object";
      return false;
    }
    const json* text = nullptr;
    if (chat) {
      const auto message = c.find("message");
      if (message != c.end() && message->is_object() && message->contains("content")) text = &(*message)["content"];
    } else if (c.contains("text")) {
      text = &c["text"];
    }
    // A null content is an empty completion; a missing one is a broken response.
    if (text == nullptr || !(text->is_string() || text->is_null())) {
      why = std::string("choice ") + std::to_string(i) + (chat ? " has no message.content" : " has no text");
      return false;
    }
    Choice choice;
    if (text->is_string()) choice.text = text->get<std::string>();
    const auto reason = c.find("finish_reason");
    if (reason != c.end() && reason->is_string()) choice.finish_reason = reason->get<std::string>();
    const auto index = c.find("index");
    choice.index = index != c.end() && index->is_number_integer() ? index->get<std::int64_t>()
                                                                  : static_cast<std::int64_t>(i);
    parsed.choices.push_back(std::move(choice));
  }
  std::stable_sort(parsed.choices.begin(), parsed.choices.end(),
                   [](const Choice& a, const Choice& b) { return a.index < b.index; });
  const auto usage = j.find("usage");
  if (usage != j.end() && usage->is_object()) {
    parsed.prompt_tokens = token_count(*usage, "prompt_tokens");
    parsed.completion_tokens = token_count(*usage, "completion_tokens");
  }
  return true;
}

// llama.cpp answers n != 1 with "Only one completion choice is allowed": 400
// in current builds, 500 in older ones. Any 400/422 to n > 1 is worth one try
// with n=1 (a real bad request fails again there); a 500 only with that text.
bool refuses_n(long status, const std::string& message) {
  if (status == 400 || status == 422) return true;
  return status == 500 && lower(message).find("completion choice") != std::string::npos;
}

}  // namespace

OpenAiLanguageModel::OpenAiLanguageModel(OpenAiOptions options) : options_(std::move(options)) {
  if (options_.base_url.empty()) throw std::invalid_argument("openai: base_url is empty");
  if (options_.api != "completions" && options_.api != "chat")
    throw std::invalid_argument("openai: api must be \"completions\" or \"chat\", not \"" + options_.api + "\"");
  if (!(options_.timeout_s > 0) || !(options_.connect_timeout_s > 0))
    throw std::invalid_argument("openai: timeouts must be positive");
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  endpoint_ = base + (options_.api == "chat" ? "/chat/completions" : "/completions");
  if (!options_.api_key_env.empty()) {
    if (const char* key = std::getenv(options_.api_key_env.c_str())) api_key_ = key;
  }
  init_curl_once();
}

void OpenAiLanguageModel::check_ready() {
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  CurlHandle curl(curl_easy_init());
  if (!curl) throw LanguageModelError("openai: curl_easy_init failed");
  Slist headers(curl_slist_append(nullptr, "Accept: application/json"));
  if (!api_key_.empty()) curl_slist_append(headers.get(), ("Authorization: Bearer " + api_key_).c_str());
  const double timeout = std::min(options_.timeout_s, 10.0);
  const HttpResult r = post(curl.get(), base + "/models", "", headers.get(), timeout,
                            std::min(options_.connect_timeout_s, 5.0), /*get=*/true);
  if (r.status == 0) throw LanguageModelError("openai: cannot reach " + base + ": " + one_line(r.error));
  if (r.status == 401 || r.status == 403)
    throw LanguageModelError("openai: " + base + " refused the API key (HTTP " + std::to_string(r.status) + ")");
  if (r.status != 200 || options_.model.empty()) return;
  json list;
  try {
    list = json::parse(r.body);
  } catch (const json::exception&) {
    return;  // not a model list: the first request will tell
  }
  if (!list.is_object() || !list.contains("data") || !list["data"].is_array()) return;
  std::string served;
  for (const auto& m : list["data"]) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) continue;
    if (m["id"] == options_.model) return;
    served += (served.empty() ? "" : ", ") + m["id"].get<std::string>();
  }
  throw LanguageModelError("openai: " + base + " does not serve model '" + options_.model + "' (it serves: " +
                           one_line(served.empty() ? "none" : served, 200) + ")");
}

std::string OpenAiLanguageModel::name() const { return "openai:" + options_.base_url + "#" + options_.model; }

OpenAiLanguageModel::Usage OpenAiLanguageModel::usage() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return usage_;
}

void OpenAiLanguageModel::reserve_request(bool retry) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (options_.max_requests > 0 && usage_.requests >= options_.max_requests)
    throw LanguageModelError("openai: request cap of " + std::to_string(options_.max_requests) +
                             " requests reached");
  const std::int64_t spent = usage_.prompt_tokens + usage_.completion_tokens;
  if (options_.max_total_tokens > 0 && spent >= options_.max_total_tokens)
    throw LanguageModelError("openai: token cap of " + std::to_string(options_.max_total_tokens) +
                             " total tokens reached (" + std::to_string(spent) + " used)");
  ++usage_.requests;
  if (retry) ++usage_.retries;
}

class OpenAiLanguageModel::RequestSlot {
 public:
  explicit RequestSlot(OpenAiLanguageModel& lm) : lm_(lm) {
    std::unique_lock<std::mutex> lock(lm_.mutex_);
    const int limit = std::max(1, lm_.options_.concurrency);
    lm_.slot_free_.wait(lock, [&] { return lm_.requests_in_flight_ < limit; });
    ++lm_.requests_in_flight_;
  }
  ~RequestSlot() {
    {
      std::lock_guard<std::mutex> lock(lm_.mutex_);
      --lm_.requests_in_flight_;
    }
    lm_.slot_free_.notify_one();
  }
  RequestSlot(const RequestSlot&) = delete;
  RequestSlot& operator=(const RequestSlot&) = delete;

 private:
  OpenAiLanguageModel& lm_;
};

void OpenAiLanguageModel::wait(double seconds) const {
  if (!(seconds > 0)) return;
  if (options_.sleep) {
    options_.sleep(seconds);
    return;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

std::string OpenAiLanguageModel::request_body(const SampleRequest& request, double temperature, int n,
                                              std::uint64_t first_index) const {
  json body = json::object();
  if (!options_.model.empty()) body["model"] = options_.model;
  if (options_.api == "chat") {
    body["messages"] = json::array({{{"role", "system"}, {"content", kChatSystemMessage}},
                                    {{"role", "user"}, {"content", request.prompt}}});
  } else {
    body["prompt"] = request.prompt;
  }
  body["max_tokens"] = request.max_tokens;
  body["temperature"] = temperature;
  body["top_p"] = request.top_p;
  body["n"] = n;
  if (!request.stop.empty()) body["stop"] = request.stop;
  body["seed"] = splitmix64(request.seed ^ splitmix64(first_index)) & 0x7fffffffULL;
  // A prompt may hold bytes an LM wrote that are not UTF-8: replace, don't throw.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool OpenAiLanguageModel::request_group(void* curl, const SampleRequest& request, double temperature, int n,
                                        std::uint64_t first_index, std::vector<Completion>& out) {
  const std::string body = request_body(request, temperature, n, first_index);
  Slist headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  // curl would otherwise wait up to a second for "100 Continue" on a long prompt.
  curl_slist_append(headers.get(), "Expect:");
  if (!api_key_.empty()) curl_slist_append(headers.get(), ("Authorization: Bearer " + api_key_).c_str());

  const bool chat = options_.api == "chat";
  const int max_retries = std::max(0, options_.max_retries);
  double backoff = options_.backoff_initial_s;
  for (int attempt = 0;; ++attempt) {
    reserve_request(attempt > 0);
    const HttpResult http = [&] {
      RequestSlot slot(*this);
      return post(static_cast<CURL*>(curl), endpoint_, body, headers.get(), options_.timeout_s,
                  options_.connect_timeout_s);
    }();
    // Why this attempt failed, and whether it was the back-end as a whole.
    std::string failure;
    bool backend_down = false;
    double delay = std::min(backoff, options_.backoff_max_s);
    if (http.code == CURLE_OPERATION_TIMEDOUT || (http.code != CURLE_OK && http.status == 0)) {
      failure = "no response from " + endpoint_ + ": " + http.error;
      backend_down = true;
    } else if (http.code != CURLE_OK) {
      failure = "broken response from " + endpoint_ + ": " + http.error;
    } else if (http.status >= 200 && http.status < 300) {
      Parsed parsed;
      std::string why;
      if (parse_response(http.body, chat, parsed, why)) {
        const std::size_t taken = std::min(parsed.choices.size(), static_cast<std::size_t>(n));
        {
          std::lock_guard<std::mutex> lock(mutex_);
          usage_.prompt_tokens += parsed.prompt_tokens;
          usage_.completion_tokens += parsed.completion_tokens;
        }
        const auto share = parsed.completion_tokens / static_cast<std::int64_t>(taken);
        const auto remainder = parsed.completion_tokens % static_cast<std::int64_t>(taken);
        for (std::size_t k = 0; k < taken; ++k) {
          Completion completion;
          completion.text = std::move(parsed.choices[k].text);
          cut_at_stop(completion.text, request.stop);
          completion.finish_reason = std::move(parsed.choices[k].finish_reason);
          completion.prompt_tokens = k == 0 ? parsed.prompt_tokens : 0;
          completion.completion_tokens = share + (static_cast<std::int64_t>(k) < remainder ? 1 : 0);
          out.push_back(std::move(completion));
        }
        return true;
      }
      failure = "invalid response from " + endpoint_ + ": " + why;
    } else if (n > 1 && refuses_n(http.status, server_message(http.body))) {
      return false;
    } else if (http.status == 408 || http.status == 429 || http.status >= 500) {
      failure = "HTTP " + std::to_string(http.status) + " from " + endpoint_ + ": " + server_message(http.body);
      backend_down = http.status == 429;
      if ((http.status == 429 || http.status == 503) && http.retry_after >= 0)
        delay = std::min(http.retry_after, options_.max_retry_after_s);
    } else {
      throw LanguageModelError("openai: HTTP " + std::to_string(http.status) + " from " + endpoint_ + ": " +
                               server_message(http.body));
    }

    if (attempt >= max_retries) {
      const std::string message =
          "openai: " + failure + " (" + std::to_string(attempt + 1) + (attempt == 0 ? " attempt)" : " attempts)");
      if (backend_down) throw LanguageModelError(message);
      for (int k = 0; k < n; ++k) {
        Completion failed;
        failed.error = message;
        out.push_back(std::move(failed));
      }
      return true;
    }
    wait(delay);
    backoff *= 2;
  }
}

namespace {

// Sample indices by temperature, in order of first appearance: one request each.
std::vector<std::pair<double, std::vector<std::size_t>>> temperature_groups(const std::vector<double>& temperatures) {
  std::vector<std::pair<double, std::vector<std::size_t>>> groups;
  for (std::size_t i = 0; i < temperatures.size(); ++i) {
    const double t = temperatures[i];
    auto group = std::find_if(groups.begin(), groups.end(), [t](const auto& g) { return g.first == t; });
    if (group == groups.end()) {
      groups.push_back({t, {}});
      group = std::prev(groups.end());
    }
    group->second.push_back(i);
  }
  return groups;
}

}  // namespace

int OpenAiLanguageModel::requests_for(const SampleRequest& request) const {
  return std::max(1, static_cast<int>(temperature_groups(request.temperatures).size()));
}

std::vector<Completion> OpenAiLanguageModel::sample(const SampleRequest& request) {
  std::vector<Completion> result(request.temperatures.size());
  if (result.empty()) return result;
  const auto groups = temperature_groups(request.temperatures);

  // Each group on its own thread and handle (connections are reused within
  // a group); the slots bound what is in flight.
  auto run_group = [&](const std::vector<std::size_t>& indices, double temperature) {
    CurlHandle curl(curl_easy_init());
    if (!curl) throw LanguageModelError("openai: curl_easy_init failed");
    std::vector<Completion> got;
    bool first = true;
    while (got.size() < indices.size()) {
      // Servers that ignore n answer one choice: ask again for one at a time.
      const int n = first && !single_choice_ ? static_cast<int>(indices.size()) : 1;
      first = false;
      if (!request_group(curl.get(), request, temperature, n, request.first_sample + indices[got.size()], got))
        single_choice_ = true;
    }
    for (std::size_t k = 0; k < indices.size(); ++k) result[indices[k]] = std::move(got[k]);
  };
  std::vector<std::future<void>> running;
  for (std::size_t g = 1; g < groups.size(); ++g)
    running.push_back(std::async(std::launch::async, run_group, std::cref(groups[g].second), groups[g].first));
  std::exception_ptr failed;
  try {
    run_group(groups[0].second, groups[0].first);
  } catch (...) {
    failed = std::current_exception();
  }
  for (auto& group : running) try {
      group.get();
    } catch (...) {
      if (!failed) failed = std::current_exception();
    }
  if (failed) std::rethrow_exception(failed);
  return result;
}

}  // namespace evoprompt::codegen
