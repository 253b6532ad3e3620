// The evoprompt command line: each command in its own file (commands.hpp).
// Here only the error policy (a usage error is one line and exit 2, any
// other failure one line and exit 1) and the MPI job: under mpirun, rank 0
// runs the command and every other rank serves it workers.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli.hpp"
#include "mpi_job.hpp"
#include "rank_workers.hpp"
#include "commands.hpp"
#include "worker_main.hpp"

namespace evoprompt::cli {

void add_worker_command(CLI::App& app, int* exit_code) {
  // Started by evoprompt itself (WorkerPool), never by users.
  auto* worker = app.add_subcommand("__worker", "");
  worker->group("");
  worker->callback([exit_code] { *exit_code = worker::run_worker(); });
}

}  // namespace evoprompt::cli

namespace {

// Rank 0's end of the job, however main ends: the other ranks may go.
struct ReleaseRanks {
  evoprompt::MpiJob* job;
  ~ReleaseRanks() {
    if (!job) return;
    for (int r = 1; r < job->size(); ++r) try {
        job->send(r, {{"op", "quit"}});
      } catch (const std::exception&) {
      }
  }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace evoprompt::cli;
  // A worker (started by a pool) is never part of an MPI job.
  const bool worker = argc > 1 && std::string(argv[1]) == "__worker";
  std::unique_ptr<evoprompt::MpiJob> job;
  if (!worker) {
    try {
      job = evoprompt::MpiJob::join(&argc, &argv);
    } catch (const std::exception& e) {
      std::cerr << "evoprompt: error: " << e.what() << "\n";
      return 1;
    }
    if (!job && evoprompt::launcher_world_size() > 1) {
      std::cerr << "evoprompt: error: this evoprompt was built without MPI, so under mpirun each of the "
                << evoprompt::launcher_world_size()
                << " ranks would be a run of its own (install libopenmpi-dev and rebuild)\n";
      return 2;
    }
    if (job && job->rank() > 0) return evoprompt::serve_rank(*job);
  }
  ReleaseRanks release{job.get()};
  int exit_code = 0;
  CLI::App app{"evoprompt: EvoPrompting neural architecture search in C++"};
  app.require_subcommand(1);
  add_seeds_command(app, &exit_code);
  add_check_command(app, &exit_code);
  add_replay_command(app, &exit_code);
  add_clrs_command(app, &exit_code);
  add_data_command(app);
  add_evolve_command(app, &exit_code, job.get());
  add_show_command(app);
  add_dump_command(app);
  add_report_commands(app);
  add_reeval_command(app, job.get());
  add_lm_commands(app, &exit_code);
  add_worker_command(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "evoprompt: error: " << e.what() << "\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "evoprompt: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    // One line: libtorch errors append a multi-line backtrace to their message.
    const std::string message = e.what();
    std::cerr << "evoprompt: error: " << message.substr(0, message.find('\n')) << "\n";
    return 1;
  }
  return exit_code;
}
