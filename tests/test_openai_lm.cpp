// The openai: back-end against a fake OpenAI-compatible server on 127.0.0.1.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "openai_lm.hpp"

using evoprompt::codegen::Completion;
using evoprompt::codegen::kChatSystemMessage;
using evoprompt::codegen::LanguageModelError;
using evoprompt::codegen::OpenAiLanguageModel;
using evoprompt::codegen::OpenAiOptions;
using evoprompt::codegen::SampleRequest;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Seen {
  std::string path;
  json body;
  std::string authorization;
  Clock::time_point at;
};

// Answers POST /v1/completions and /v1/chat/completions with `handler`,
// which gets the request body and the 0-based call number.
class FakeServer {
 public:
  using Handler = std::function<void(const json& body, int call, httplib::Response& res)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    auto route = [this](const httplib::Request& req, httplib::Response& res) {
      int call = 0;
      json body = json::parse(req.body, nullptr, false);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        call = static_cast<int>(seen_.size());
        seen_.push_back({req.path, body, req.get_header_value("Authorization"), Clock::now()});
      }
      handler_(body, call, res);
    };
    server_.Post("/v1/completions", route);
    server_.Post("/v1/chat/completions", route);
    // GET /v1/models: the list set by serve_models, else 404.
    server_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (models_.empty()) {
        res.status = 404;
        return;
      }
      json data = json::array();
      for (const auto& m : models_) data.push_back({{"id", m}, {"object", "model"}});
      res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
    });
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("fake server: cannot bind");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the loop runs would be lost; wait for it.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    server_.stop();
    thread_.join();
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const { return port_; }
  void serve_models(std::vector<std::string> models) {
    std::lock_guard<std::mutex> lock(mutex_);
    models_ = std::move(models);
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::vector<std::string> models_;
};

json completions_reply(const std::vector<std::string>& texts, std::int64_t prompt_tokens = 0,
                       std::int64_t completion_tokens = 0, bool chat = false) {
  json choices = json::array();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    json choice = {{"index", i}, {"finish_reason", "stop"}};
    if (chat)
      choice["message"] = {{"role", "assistant"}, {"content", texts[i]}};
    else
      choice["text"] = texts[i];
    choices.push_back(choice);
  }
  return {{"id", "x"},
          {"object", chat ? "chat.completion" : "text_completion"},
          {"choices", choices},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}}}};
}

void reply(httplib::Response& res, const json& body) { res.set_content(body.dump(), "application/json"); }

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", {{"message", message}, {"type", "x"}}}}.dump(), "application/json");
}

OpenAiOptions fast_options(const FakeServer& server) {
  OpenAiOptions options;
  options.base_url = server.base_url();
  options.model = "test-model";
  options.api_key_env = "EVOPROMPT_TEST_UNSET_KEY";
  options.timeout_s = 5;
  options.max_retries = 2;
  options.backoff_initial_s = 0.01;
  options.backoff_max_s = 0.02;
  return options;
}

SampleRequest one_request(std::vector<double> temperatures) {
  SampleRequest request;
  request.prompt = "/* Metrics: */\nstruct Model : torch::nn::Module {";
  request.temperatures = std::move(temperatures);
  request.stop = {"/* Metrics:"};
  return request;
}

}  // namespace

TEST_CASE("openai: /completions sends the exact fields and strips the stop sequence", "[openai]") {
  FakeServer server([](const json&, int, httplib::Response& res) {
    reply(res, completions_reply({"  int x;\n};\n\n/* Metrics:\n{'num_params': '1'}"}, 11, 5));
  });
  ::setenv("EVOPROMPT_TEST_KEY", "sk-secret", 1);
  auto options = fast_options(server);
  options.api_key_env = "EVOPROMPT_TEST_KEY";
  OpenAiLanguageModel lm(options);
  CHECK(lm.name() == "openai:" + server.base_url() + "#test-model");
  CHECK(lm.endpoint() == server.base_url() + "/completions");

  SampleRequest request = one_request({0.7});
  request.max_tokens = 123;
  request.top_p = 0.95;
  request.seed = 7;
  const auto out = lm.sample(request);
  REQUIRE(out.size() == 1);
  CHECK(out[0].error.empty());
  CHECK(out[0].text == "  int x;\n};\n\n");
  CHECK(out[0].finish_reason == "stop");
  CHECK(out[0].prompt_tokens == 11);
  CHECK(out[0].completion_tokens == 5);

  const auto seen = server.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "/v1/completions");
  CHECK(seen[0].authorization == "Bearer sk-secret");
  const json& body = seen[0].body;
  CHECK(body.at("model") == "test-model");
  CHECK(body.at("prompt") == request.prompt);
  CHECK(body.at("temperature").get<double>() == 0.7);
  CHECK(body.at("top_p").get<double>() == 0.95);
  CHECK(body.at("n") == 1);
  CHECK(body.at("max_tokens") == 123);
  CHECK(body.at("stop") == json::array({"/* Metrics:"}));
  CHECK(body.at("seed").is_number_unsigned());
  CHECK(body.at("seed").get<std::uint64_t>() < (std::uint64_t{1} << 31));
  CHECK_FALSE(body.contains("messages"));
  const auto usage = lm.usage();
  CHECK(usage.requests == 1);
  CHECK(usage.retries == 0);
  CHECK(usage.prompt_tokens == 11);
  CHECK(usage.completion_tokens == 5);
  ::unsetenv("EVOPROMPT_TEST_KEY");
}

TEST_CASE("openai: /chat/completions sends a system and a user message", "[openai]") {
  FakeServer server([](const json&, int, httplib::Response& res) {
    json r = completions_reply({"int y;\n};\n", ""}, 3, 4, true);
    r["choices"][1]["message"]["content"] = nullptr;  // some servers send null for nothing
    reply(res, r);
  });
  ::unsetenv("EVOPROMPT_TEST_UNSET_KEY");
  auto options = fast_options(server);
  options.api = "chat";
  options.base_url += "/";  // a trailing slash is not doubled
  OpenAiLanguageModel lm(options);
  CHECK(lm.endpoint() == server.base_url() + "/chat/completions");
  const auto out = lm.sample(one_request({0.3, 0.3}));
  REQUIRE(out.size() == 2);
  CHECK(out[0].text == "int y;\n};\n");
  CHECK(out[1].text.empty());
  CHECK(out[1].error.empty());

  const auto seen = server.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "/v1/chat/completions");
  CHECK(seen[0].authorization.empty());
  const json& body = seen[0].body;
  CHECK(body.at("model") == "test-model");
  CHECK_FALSE(body.contains("prompt"));
  REQUIRE(body.at("messages").size() == 2);
  CHECK(body["messages"][0] == json{{"role", "system"}, {"content", kChatSystemMessage}});
  CHECK(body["messages"][1] == json{{"role", "user"}, {"content", one_request({}).prompt}});
  CHECK(body.at("n") == 2);
  CHECK(body.at("temperature").get<double>() == 0.3);
  CHECK(body.at("stop") == json::array({"/* Metrics:"}));
  CHECK(body.at("max_tokens") == 2048);
}

TEST_CASE("openai: equal temperatures go out as one request with n, results in order", "[openai]") {
  FakeServer server([](const json& body, int, httplib::Response& res) {
    std::vector<std::string> texts;
    for (int k = 0; k < body.at("n").get<int>(); ++k)
      texts.push_back(std::to_string(body.at("temperature").get<double>()).substr(0, 3) + "#" + std::to_string(k));
    reply(res, completions_reply(texts, 10, 7));
  });
  OpenAiLanguageModel lm(fast_options(server));
  const auto out = lm.sample(one_request({0.5, 1.0, 0.5, 1.0, 0.5}));
  REQUIRE(out.size() == 5);
  CHECK(out[0].text == "0.5#0");
  CHECK(out[1].text == "1.0#0");
  CHECK(out[2].text == "0.5#1");
  CHECK(out[3].text == "1.0#1");
  CHECK(out[4].text == "0.5#2");

  // One request per temperature; the two go out together, in either order.
  std::map<double, int> n_at;
  for (const auto& request : server.seen()) n_at[request.body.at("temperature").get<double>()] = request.body.at("n");
  CHECK(server.seen().size() == 2);
  CHECK(n_at == std::map<double, int>{{0.5, 3}, {1.0, 2}});

  // Per-request usage: prompt tokens on the first completion, completion
  // tokens split evenly (7 over 3: 3, 2, 2), sums equal to the server's.
  CHECK(out[0].prompt_tokens == 10);
  CHECK(out[2].prompt_tokens == 0);
  CHECK(out[4].prompt_tokens == 0);
  CHECK(out[0].completion_tokens == 3);
  CHECK(out[2].completion_tokens == 2);
  CHECK(out[4].completion_tokens == 2);
  CHECK(out[1].prompt_tokens == 10);
  CHECK(out[1].completion_tokens + out[3].completion_tokens == 7);
  const auto usage = lm.usage();
  CHECK(usage.requests == 2);
  CHECK(usage.prompt_tokens == 20);
  CHECK(usage.completion_tokens == 14);
}

TEST_CASE("openai: a server that ignores n is asked again for the missing samples", "[openai]") {
  FakeServer server([](const json&, int call, httplib::Response& res) {
    reply(res, completions_reply({"c" + std::to_string(call)}, 5, 2));
  });
  OpenAiLanguageModel lm(fast_options(server));
  const auto out = lm.sample(one_request({0.8, 0.8, 0.8}));
  REQUIRE(out.size() == 3);
  CHECK(out[0].text == "c0");
  CHECK(out[1].text == "c1");
  CHECK(out[2].text == "c2");
  for (const auto& c : out) CHECK(c.prompt_tokens == 5);

  const auto seen = server.seen();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].body.at("n") == 3);
  CHECK(seen[1].body.at("n") == 1);
  CHECK(seen[2].body.at("n") == 1);
  // Each request has its own seed, or a seeded server would repeat itself.
  std::set<std::uint64_t> seeds;
  for (const auto& s : seen) seeds.insert(s.body.at("seed").get<std::uint64_t>());
  CHECK(seeds.size() == 3);
}

TEST_CASE("openai: a server that refuses n > 1 is asked with n=1 from then on", "[openai]") {
  // llama.cpp: HTTP 400 in current builds, 500 in older ones.
  const int status = GENERATE(400, 500);
  FakeServer server([status](const json& body, int call, httplib::Response& res) {
    if (body.at("n") != 1) return reply_error(res, status, "Only one completion choice is allowed");
    reply(res, completions_reply({"c" + std::to_string(call)}));
  });
  OpenAiLanguageModel lm(fast_options(server));
  const auto out = lm.sample(one_request({0.8, 0.8, 0.8}));
  REQUIRE(out.size() == 3);
  CHECK(out[0].text == "c1");
  CHECK(out[1].text == "c2");
  CHECK(out[2].text == "c3");
  for (const auto& c : out) CHECK(c.error.empty());
  CHECK(server.seen().size() == 4);

  // Remembered: the next group goes out with n=1 at once.
  const auto again = lm.sample(one_request({0.5, 0.5}));
  CHECK(again.at(0).text == "c4");
  CHECK(again.at(1).text == "c5");
  const auto seen = server.seen();
  REQUIRE(seen.size() == 6);
  CHECK(seen[4].body.at("n") == 1);
  CHECK(lm.usage().retries == 0);
}

TEST_CASE("openai: 429 with Retry-After waits that long, then succeeds", "[openai]") {
  FakeServer server([](const json&, int call, httplib::Response& res) {
    if (call == 0) {
      reply_error(res, 429, "slow down");
      res.set_header("Retry-After", "1");
      return;
    }
    reply(res, completions_reply({"ok"}));
  });
  OpenAiLanguageModel lm(fast_options(server));
  const auto out = lm.sample(one_request({0.5}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].error.empty());
  CHECK(out[0].text == "ok");
  const auto seen = server.seen();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].at - seen[0].at >= std::chrono::milliseconds(950));
  CHECK(lm.usage().retries == 1);
  CHECK(lm.usage().requests == 2);
}

TEST_CASE("openai: Retry-After is clamped and backoff doubles up to its maximum", "[openai]") {
  FakeServer server([](const json&, int call, httplib::Response& res) {
    if (call == 0) {
      reply_error(res, 503, "loading model");
      res.set_header("Retry-After", "100");
      return;
    }
    reply_error(res, 500, "boom");
  });
  std::vector<double> waits;
  auto options = fast_options(server);
  options.max_retries = 4;
  options.backoff_initial_s = 0.01;
  options.backoff_max_s = 0.03;
  options.max_retry_after_s = 0.05;
  options.sleep = [&waits](double s) { waits.push_back(s); };
  OpenAiLanguageModel lm(options);
  const auto out = lm.sample(one_request({0.5}));
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].error.empty());
  REQUIRE(waits.size() == 4);
  CHECK(waits[0] == Approx(0.05));  // Retry-After, clamped
  CHECK(waits[1] == Approx(0.02));
  CHECK(waits[2] == Approx(0.03));
  CHECK(waits[3] == Approx(0.03));
}

TEST_CASE("openai: 500 then success is retried", "[openai]") {
  FakeServer server([](const json&, int call, httplib::Response& res) {
    if (call == 0) return reply_error(res, 500, "internal");
    reply(res, completions_reply({"fine"}));
  });
  OpenAiLanguageModel lm(fast_options(server));
  const auto out = lm.sample(one_request({0.5}));
  CHECK(out.at(0).text == "fine");
  CHECK(out.at(0).error.empty());
  CHECK(server.seen().size() == 2);
  CHECK(lm.usage().retries == 1);
}

TEST_CASE("openai: 500 forever fails that request's samples after max_retries, others go on", "[openai]") {
  FakeServer server([](const json& body, int, httplib::Response& res) {
    if (body.at("temperature").get<double>() < 0.5) return reply_error(res, 500, "model crashed");
    reply(res, completions_reply({"good"}));
  });
  OpenAiLanguageModel lm(fast_options(server));  // max_retries = 2
  const auto out = lm.sample(one_request({0.1, 0.9, 0.1}));
  REQUIRE(out.size() == 3);
  for (std::size_t i : {0, 2}) {
    CHECK(out[i].text.empty());
    CHECK_THAT(out[i].error, Catch::Contains("HTTP 500") && Catch::Contains("model crashed") &&
                                 Catch::Contains("3 attempts"));
  }
  CHECK(out[1].error.empty());
  CHECK(out[1].text == "good");
  CHECK(server.seen().size() == 4);  // 3 attempts at 0.1, one at 0.9
  CHECK(lm.usage().retries == 2);
}

TEST_CASE("openai: a timeout is retried; timeouts on every attempt throw", "[openai]") {
  FakeServer server([](const json& body, int call, httplib::Response& res) {
    // Temperature 0.2 always hangs; otherwise only the first call does.
    if (body.at("temperature").get<double>() == 0.2 || call == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
    reply(res, completions_reply({"late"}));
  });
  auto options = fast_options(server);
  options.timeout_s = 0.15;
  options.max_retries = 1;
  OpenAiLanguageModel lm(options);

  const auto out = lm.sample(one_request({0.5}));
  CHECK(out.at(0).text == "late");
  CHECK(server.seen().size() == 2);

  const auto start = Clock::now();
  CHECK_THROWS_WITH(lm.sample(one_request({0.2})),
                    Catch::Contains("no response from") && Catch::Contains("2 attempts"));
  CHECK(Clock::now() - start < std::chrono::milliseconds(1000));
  CHECK(server.seen().size() == 4);
}

TEST_CASE("openai: a server that refuses connections throws", "[openai]") {
  int port = 0;
  {
    FakeServer gone([](const json&, int, httplib::Response&) {});
    port = gone.port();
  }
  OpenAiOptions options;
  options.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  options.max_retries = 1;
  options.backoff_initial_s = 0.01;
  OpenAiLanguageModel lm(options);
  CHECK_THROWS_AS(lm.sample(one_request({0.5})), LanguageModelError);
  CHECK(lm.usage().requests == 2);
}

TEST_CASE("openai: truncated JSON is retried, then reported", "[openai]") {
  FakeServer server([](const json& body, int call, httplib::Response& res) {
    const bool always = body.at("temperature").get<double>() == 0.2;
    if (always || call == 0) {
      res.set_content(R"({"choices":[{"text":"abc")", "application/json");
      return;
    }
    reply(res, completions_reply({"whole"}));
  });
  OpenAiLanguageModel lm(fast_options(server));
  const auto ok = lm.sample(one_request({0.5}));
  CHECK(ok.at(0).text == "whole");
  CHECK(ok.at(0).error.empty());
  CHECK(server.seen().size() == 2);

  const auto bad = lm.sample(one_request({0.2}));
  CHECK(bad.at(0).text.empty());
  CHECK_THAT(bad.at(0).error, Catch::Contains("invalid response") && Catch::Contains("3 attempts"));
  CHECK(server.seen().size() == 5);
}

TEST_CASE("openai: an empty completion text is a valid completion", "[openai]") {
  FakeServer server([](const json&, int, httplib::Response& res) { reply(res, completions_reply({""}, 4, 0)); });
  OpenAiLanguageModel lm(fast_options(server));
  const auto out = lm.sample(one_request({0.5}));
  REQUIRE(out.size() == 1);
  CHECK(out[0].text.empty());
  CHECK(out[0].error.empty());
  CHECK(out[0].finish_reason == "stop");
  CHECK(server.seen().size() == 1);
}

TEST_CASE("openai: 401 and 400 throw at once, naming the status and the server's message", "[openai]") {
  FakeServer server([](const json& body, int, httplib::Response& res) {
    if (body.at("temperature").get<double>() == 0.4) return reply_error(res, 400, "context too\nlong");
    reply_error(res, 401, "Incorrect API key provided");
  });
  ::setenv("EVOPROMPT_TEST_KEY", "sk-secret", 1);
  auto options = fast_options(server);
  options.api_key_env = "EVOPROMPT_TEST_KEY";
  OpenAiLanguageModel lm(options);
  try {
    lm.sample(one_request({0.5}));
    FAIL("no exception");
  } catch (const LanguageModelError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("HTTP 401") && Catch::Contains("Incorrect API key provided"));
    CHECK(what.find('\n') == std::string::npos);
    CHECK(what.find("sk-secret") == std::string::npos);
  }
  CHECK(server.seen().size() == 1);
  CHECK_THROWS_WITH(lm.sample(one_request({0.4})), Catch::Contains("HTTP 400") && Catch::Contains("context too long"));
  CHECK(server.seen().size() == 2);
  CHECK(lm.usage().retries == 0);
  ::unsetenv("EVOPROMPT_TEST_KEY");
}

TEST_CASE("openai: 429 on every attempt throws", "[openai]") {
  FakeServer server([](const json&, int, httplib::Response& res) { reply_error(res, 429, "quota exceeded"); });
  OpenAiLanguageModel lm(fast_options(server));
  CHECK_THROWS_WITH(lm.sample(one_request({0.5})), Catch::Contains("HTTP 429") && Catch::Contains("quota exceeded"));
  CHECK(server.seen().size() == 3);
}

TEST_CASE("openai: request and token caps stop before the request that would pass them", "[openai]") {
  FakeServer server([](const json&, int, httplib::Response& res) { reply(res, completions_reply({"x"}, 10, 20)); });
  SECTION("requests") {
    auto options = fast_options(server);
    options.max_requests = 2;
    OpenAiLanguageModel lm(options);
    CHECK_THROWS_WITH(lm.sample(one_request({0.1, 0.2, 0.3})), "openai: request cap of 2 requests reached");
    CHECK(server.seen().size() == 2);
    CHECK(lm.usage().requests == 2);
  }
  SECTION("tokens") {
    auto options = fast_options(server);
    options.max_total_tokens = 50;
    OpenAiLanguageModel lm(options);
    CHECK(lm.sample(one_request({0.1, 0.2})).size() == 2);  // 30 then 60 tokens
    CHECK_THROWS_WITH(lm.sample(one_request({0.1})), Catch::Contains("token cap of 50 total tokens reached"));
    CHECK(server.seen().size() == 2);
  }
}

TEST_CASE("openai: options are checked", "[openai]") {
  OpenAiOptions options;
  CHECK_THROWS_AS(OpenAiLanguageModel(options), std::invalid_argument);
  options.base_url = "http://127.0.0.1:1/v1";
  options.api = "responses";
  CHECK_THROWS_AS(OpenAiLanguageModel(options), std::invalid_argument);
  options.api = "chat";
  options.timeout_s = 0;
  CHECK_THROWS_AS(OpenAiLanguageModel(options), std::invalid_argument);
  options.timeout_s = 1;
  OpenAiLanguageModel lm(options);
  CHECK(lm.sample(one_request({})).empty());
  CHECK(lm.usage().requests == 0);
}

TEST_CASE("openai: check_ready fails in seconds for a server it cannot reach or a model not served", "[openai]") {
  FakeServer server([](const json&, int, httplib::Response& res) { reply(res, completions_reply({"x"})); });
  OpenAiOptions o;
  o.base_url = server.base_url();
  o.api_key_env = "";
  o.model = "qwen";
  SECTION("a server without /models passes") { OpenAiLanguageModel(o).check_ready(); }
  SECTION("the model among those served passes, outside the request cap") {
    server.serve_models({"llama", "qwen"});
    OpenAiLanguageModel lm(o);
    lm.check_ready();
    CHECK(lm.usage().requests == 0);
    CHECK(server.seen().empty());
  }
  SECTION("a model not served is named, with those that are") {
    server.serve_models({"llama", "mistral"});
    o.model = "gpt";
    CHECK_THROWS_WITH(OpenAiLanguageModel(o).check_ready(),
                      "openai: " + server.base_url() + " does not serve model 'gpt' (it serves: llama, mistral)");
  }
  SECTION("no server: one line, in seconds") {
    int port = 0;
    {
      FakeServer gone([](const json&, int, httplib::Response&) {});
      port = gone.port();
    }
    o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
    const auto t0 = Clock::now();
    CHECK_THROWS_WITH(OpenAiLanguageModel(o).check_ready(),
                      Catch::StartsWith("openai: cannot reach http://127.0.0.1:" + std::to_string(port) + "/v1: "));
    CHECK(std::chrono::duration<double>(Clock::now() - t0).count() < 6.0);
  }
}

TEST_CASE("openai: a call's temperature groups go out together, at most `concurrency` at once", "[openai]") {
  std::atomic<int> now{0}, most{0};
  FakeServer server([&](const json& body, int, httplib::Response& res) {
    const int n = ++now;
    for (int seen = most.load(); n > seen && !most.compare_exchange_weak(seen, n);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    --now;
    reply(res, completions_reply(std::vector<std::string>(body.at("n").get<std::size_t>(),
                                                          "t=" + body.at("temperature").dump())));
  });
  for (int limit : {4, 2}) {
    most = 0;
    OpenAiOptions options = fast_options(server);
    options.concurrency = limit;
    OpenAiLanguageModel lm(options);
    const auto request = one_request({0.2, 0.6, 0.8, 1.0, 0.2});
    CHECK(lm.requests_for(request) == 4);  // what LmCalls counts against --lm-concurrency
    const auto out = lm.sample(request);
    REQUIRE(out.size() == 5);
    CHECK(out[0].text == "t=0.2");
    CHECK(out[1].text == "t=0.6");
    CHECK(out[2].text == "t=0.8");
    CHECK(out[3].text == "t=1.0");
    CHECK(out[4].text == "t=0.2");
    CHECK(most == limit);
    CHECK(lm.usage().requests == 4);
  }
}
