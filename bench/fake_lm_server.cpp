// An OpenAI-compatible completions server for benchmarks: it answers each
// request after a set latency, with children written by the mutate operator
// from the request's prompt (so they are valid parents' variants).
//   evoprompt_fake_lm PORT_FILE LATENCY_S
// Listens on a free loopback port, writes the port to PORT_FILE, and serves
// until killed. Concurrent requests wait concurrently, as a real server's do.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "mutate_lm.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: evoprompt_fake_lm PORT_FILE LATENCY_S\n");
    return 2;
  }
  const std::string port_file = argv[1];
  const double latency_s = std::stod(argv[2]);
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(256); };
  server.Post("/v1/completions", [latency_s](const httplib::Request& req, httplib::Response& res) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto body = nlohmann::json::parse(req.body);
    evoprompt::codegen::SampleRequest r;
    r.prompt = body.at("prompt");
    const int n = body.value("n", 1);
    r.temperatures.assign(static_cast<std::size_t>(n), body.value("temperature", 1.0));
    r.seed = body.value("seed", 0);
    const auto completions = evoprompt::codegen::MutateOperator().sample(r);
    nlohmann::json choices = nlohmann::json::array();
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < completions.size(); ++i) {
      choices.push_back({{"index", i}, {"text", completions[i].text}, {"finish_reason", "stop"}});
      tokens += static_cast<std::int64_t>(completions[i].text.size() / 4);
    }
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                           std::chrono::duration<double>(latency_s)));
    res.set_content(nlohmann::json{{"choices", choices},
                                   {"usage", {{"prompt_tokens", r.prompt.size() / 4}, {"completion_tokens", tokens}}}}
                        .dump(),
                    "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "evoprompt_fake_lm: cannot listen on 127.0.0.1\n");
    return 1;
  }
  std::ofstream(port_file) << port << "\n";
  server.listen_after_bind();
  return 0;
}
