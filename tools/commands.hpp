// Every command of the evoprompt CLI, one file each. A command parses its
// flags, calls the libraries and prints; `exit_code` is where it leaves its
// status when that is not 0. main.cpp adds them in this order.
#pragma once

#include <CLI/CLI.hpp>

namespace evoprompt {
class MpiJob;
}

namespace evoprompt::cli {

// `job`: the MPI job this process is rank 0 of (mpirun), or nullptr.
void add_evolve_command(CLI::App& app, int* exit_code, MpiJob* job);  // cmd_evolve.cpp
void add_show_command(CLI::App& app);                       // cmd_show.cpp
void add_dump_command(CLI::App& app);                       // cmd_dump.cpp
void add_report_commands(CLI::App& app);                    // cmd_report.cpp: report, export
void add_reeval_command(CLI::App& app, MpiJob* job);        // cmd_reeval.cpp
void add_replay_command(CLI::App& app, int* exit_code);     // cmd_replay.cpp
void add_check_command(CLI::App& app, int* exit_code);      // cmd_check.cpp
void add_seeds_command(CLI::App& app, int* exit_code);      // cmd_seeds.cpp
void add_clrs_command(CLI::App& app, int* exit_code);       // cmd_clrs.cpp
void add_data_command(CLI::App& app);                       // cmd_data.cpp
void add_lm_commands(CLI::App& app, int* exit_code);        // lm_commands.cpp
void add_worker_command(CLI::App& app, int* exit_code);     // main.cpp: the worker side of WorkerPool

}  // namespace evoprompt::cli
