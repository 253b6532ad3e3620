#include "run_settings.hpp"

#include <toml++/toml.h>

#include <stdexcept>

namespace evoprompt::engine {
namespace {

using nlohmann::json;

// A value of a config layer may replace `current` when both are of one kind.
bool same_kind(const json& current, const json& given) {
  if (current.is_number()) return given.is_number() && (current.is_number_float() || !given.is_number_float());
  if (current.is_array()) return given.is_array();
  return current.type() == given.type();
}

// Every key of `given` over `current`, which lists the table's keys.
void merge_table(json& current, const json& given, const std::string& table, const std::string& origin) {
  if (!given.is_object()) throw std::invalid_argument(origin + "'" + table + "' must be a table");
  for (auto it = given.begin(); it != given.end(); ++it) {
    const std::string name = table + "." + it.key();
    if (!current.contains(it.key())) throw std::invalid_argument(origin + "unknown setting '" + name + "'");
    if (!same_kind(current[it.key()], it.value()))
      throw std::invalid_argument(origin + "'" + name + "' has the wrong type");
    current[it.key()] = it.value();
  }
}

// The task's [train] table: only fields users set, each of its type.
void merge_train(tasks::TaskConfig& task, const json& given, const std::string& origin) {
  if (!given.is_object()) throw std::invalid_argument(origin + "'train' must be a table");
  json options = task.options;
  for (auto it = given.begin(); it != given.end(); ++it) {
    const auto& fields = task.task->options();
    auto f = std::find_if(fields.begin(), fields.end(), [&](const tasks::OptionField& x) { return x.key == it.key(); });
    if (f == fields.end() || f->scope != tasks::OptionScope::user) {
      bool other = false;
      for (const tasks::Task* t : tasks::all_tasks())
        for (const auto& x : t->options()) other |= x.key == it.key() && x.scope == tasks::OptionScope::user;
      if (other)
        throw std::invalid_argument(origin + "'train." + it.key() + "' is not a setting of task " + task.name);
      throw std::invalid_argument(origin + "unknown setting 'train." + it.key() + "'");
    }
    if (!tasks::option_value_fits(*f, it.value()))
      throw std::invalid_argument(origin + "'train." + it.key() + "' has the wrong type");
    options[it.key()] = it.value();
  }
  task = tasks::task_config(task.name, options);
}

void apply_layer(RunSettings& s, const json& layer, const std::string& origin) {
  if (!layer.is_object()) throw std::invalid_argument(origin + "settings must be tables");
  for (auto it = layer.begin(); it != layer.end(); ++it) {
    const std::string& table = it.key();
    if (table == "train") {
      merge_train(s.task, it.value(), origin);
      continue;
    }
    json current;
    if (table == "evolution") current = to_json(s.evolution);
    else if (table == "lm") current = to_json(s.lm);
    else if (table == "workers") current = to_json(s.workers);
    else throw std::invalid_argument(origin + "unknown setting '" + table + "' (tables: evolution, train, lm, workers)");
    merge_table(current, it.value(), table, origin);
    if (table == "evolution") s.evolution = evolution_config_from_json(current);
    else if (table == "lm") s.lm = codegen::lm_settings_from_json(current);
    else s.workers = worker_settings_from_json(current);
  }
}

json toml_to_json(const toml::node& n) {
  if (auto* t = n.as_table()) {
    json j = json::object();
    for (auto&& [k, v] : *t) j[std::string(k.str())] = toml_to_json(v);
    return j;
  }
  if (auto* a = n.as_array()) {
    json j = json::array();
    for (auto&& v : *a) j.push_back(toml_to_json(v));
    return j;
  }
  if (auto v = n.value_exact<std::string>()) return *v;
  if (auto v = n.value_exact<bool>()) return *v;
  if (auto v = n.value_exact<std::int64_t>()) return *v;
  if (auto v = n.value_exact<double>()) return *v;
  return nullptr;  // dates and times: no setting has that type
}

}  // namespace

json to_json(const WorkerSettings& w) {
  return {{"workers", w.workers},
          {"workers_per_gpu", w.workers_per_gpu},
          {"in_process", w.in_process},
          {"compile_timeout_s", w.limits.compile_timeout_s},
          {"train_timeout_s", w.limits.train_timeout_s},
          {"mem_limit_mb", w.limits.mem_limit_mb}};
}

WorkerSettings worker_settings_from_json(const json& j) {
  WorkerSettings w;
  w.workers = j.at("workers");
  w.workers_per_gpu = j.value("workers_per_gpu", 1);  // journals before it had none
  w.in_process = j.at("in_process");
  w.limits.compile_timeout_s = j.at("compile_timeout_s");
  w.limits.train_timeout_s = j.at("train_timeout_s");
  w.limits.mem_limit_mb = j.at("mem_limit_mb");
  return w;
}

const std::vector<std::string>& setting_tables() {
  static const std::vector<std::string> names{"evolution", "train", "lm", "workers"};
  return names;
}

RunSettings resolve_run_settings(const std::string& task, const std::string& preset, const std::vector<json>& layers,
                                 const std::vector<std::string>& origins) {
  RunSettings s;
  s.task = tasks::find_task(task);
  apply_layer(s, s.task.task->preset(preset), "");
  for (std::size_t i = 0; i < layers.size(); ++i)
    apply_layer(s, layers[i], i < origins.size() && !origins[i].empty() ? origins[i] + ": " : "");
  s.evolution.validate();
  if (s.workers.workers < 0) throw std::invalid_argument("--workers must be >= 0");
  if (s.workers.workers_per_gpu < 1) throw std::invalid_argument("--workers-per-gpu must be >= 1");
  if (s.workers.limits.compile_timeout_s <= 0 || s.workers.limits.train_timeout_s <= 0)
    throw std::invalid_argument("timeouts must be > 0");
  if (s.workers.limits.mem_limit_mb < 0) throw std::invalid_argument("--mem-limit-mb must be >= 0");
  (void)codegen::parse_lm_spec(s.lm.spec);
  return s;
}

json read_config_file(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument(path + ":" + std::to_string(e.source().begin.line) + ": " +
                                std::string(e.description()));
  } catch (const std::exception& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  for (auto&& [key, node] : root)
    if (!node.is_table())
      throw std::invalid_argument(path + ": unknown setting '" + std::string(key.str()) +
                                  "' (tables: evolution, train, lm, workers)");
  return toml_to_json(root);
}

std::map<std::string, std::string> run_meta(const RunSettings& s, const std::string& evaluator_description) {
  const json versions = {{"evoprompt", "0.4.0"},
                         {"journal_format", Journal::kFormat},
                         {"llvm", 19},
                         {"sqlite", Journal::sqlite_version()}};
  return {{"task", s.task.name},
          {"evolution", to_json(s.evolution).dump()},
          {"train", s.task.stored_options().dump()},
          {"evaluator", evaluator_description},
          {"lm", to_json(s.lm).dump()},
          {"workers", to_json(s.workers).dump()},
          {"versions", versions.dump()},
          {"status", "running"}};
}

RunSettings stored_run_settings(const Journal& journal) {
  auto stored = [&](const char* key) {
    const auto value = journal.meta(key);
    if (!value) throw std::runtime_error(std::string("the journal lacks its '") + key + "' settings");
    return json::parse(*value);
  };
  RunSettings s;
  try {
    const auto task = journal.meta("task");
    if (!task) throw std::runtime_error("the journal names no task");
    s.task = tasks::task_config(*task, stored("train"));
    s.evolution = evolution_config_from_json(stored("evolution"));
    s.lm = codegen::lm_settings_from_json(stored("lm"));
    s.workers = worker_settings_from_json(stored("workers"));
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("the journal's settings are unreadable: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("the journal's settings are refused: ") + e.what());
  }
  return s;
}

}  // namespace evoprompt::engine
