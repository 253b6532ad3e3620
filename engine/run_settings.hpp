// Everything that decides a run, as the journal stores it: the task and its
// options, the search, the LM and the workers. Built in layers (the task's
// defaults, a preset, a config file, the flags), each one a JSON object of
// tables, {"evolution": ..., "train": ..., "lm": ..., "workers": ...},
// through one path that refuses unknown keys and wrong types.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "config.hpp"
#include "journal.hpp"
#include "lm_factory.hpp"
#include "tasks/task.hpp"
#include "worker_pool.hpp"

namespace evoprompt::engine {

struct WorkerSettings {
  int workers = 0;          // 0: the default rule (see worker_pool.hpp)
  int workers_per_gpu = 1;  // the default rule's workers per visible GPU
  bool in_process = false;  // evaluate in the driver: no isolation (debugging)
  WorkerLimits limits;
};

nlohmann::json to_json(const WorkerSettings& w);
WorkerSettings worker_settings_from_json(const nlohmann::json& j);

struct RunSettings {
  tasks::TaskConfig task;
  EvolutionConfig evolution;
  codegen::LmSettings lm;
  WorkerSettings workers;
};

// The table names, in the order a config file lists them.
const std::vector<std::string>& setting_tables();

// `task`'s defaults, then `preset` (quick, paper), then each layer in turn.
// Throws std::invalid_argument with one line naming the setting, e.g.
// "run.toml: unknown setting 'evolution.roundz'" or "'train.hidden' is not a
// setting of task mnist1d"; `origins[i]` names layer i in the messages.
RunSettings resolve_run_settings(const std::string& task, const std::string& preset,
                                 const std::vector<nlohmann::json>& layers, const std::vector<std::string>& origins);

// A TOML config file as tables; std::invalid_argument "PATH:LINE: why".
nlohmann::json read_config_file(const std::string& path);

// The journal's meta rows of a new run, and the settings back from them.
std::map<std::string, std::string> run_meta(const RunSettings& settings, const std::string& evaluator_description);
// Throws std::runtime_error when the journal lacks a setting or holds a bad one.
RunSettings stored_run_settings(const Journal& journal);

}  // namespace evoprompt::engine
