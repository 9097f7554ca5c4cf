// Arriving work run as Equus runs it: each job is an RDC launched by a launch program of its own on the
// UNIX host (a user typing `launch`), placed by the pool manager's policy, computing its demand, and
// terminated by its launch program when its primary ends, which releases its nodes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "models/kernel/equus.hpp"
#include "models/pool/launch.hpp"
#include "models/pool/workload.hpp"

namespace equus::pool {

/// One job's life (simulated seconds; negative: it did not get that far).
struct JobRecord {
  int id = 0;
  double arrival = 0, admitted = -1, started = -1, ended = -1;
  int home = -1, node = -1;  // where it arrived, where its primary ran
  int incarnations = 1;
  double demand_s = 0;  // CPU per incarnation at the reference card
  double idle_s = 0;    // its time alone at an idle node of its kind (slowdown's denominator)
  bool counted = true;  // arrived after the warm-up
  int status = 0;       // E_OK, or why it failed (a refused launch: E_NOMEM)
  bool done() const { return ended >= 0; }
  double response() const { return ended - arrival; }
};

struct WorkloadPlan {
  WorkloadSpec spec;
  uint64_t seed = 1;
  std::vector<int> homes;  // the nodes work arrives at (the workload's groups), uniformly
  std::vector<kernel::Module> modules;
  int job_module = 0;
};

class WorkloadDriver {
 public:
  WorkloadDriver(WorkloadPlan plan, std::function<void(const JobRecord&)> done);
  void set_pool(Pool& pool) { pool_ = &pool; }
  /// The arrival process (a launch program's program): sleeps until each arrival and starts the job's
  /// own launch program, so that a waiting launch never delays the next arrival.
  void run(kernel::Equus& eq);

 private:
  void run_job(kernel::Equus& eq, const Job& job, int home);

  WorkloadPlan plan_;
  std::function<void(const JobRecord&)> done_;
  Pool* pool_ = nullptr;
};

/// The job program every job module runs unless the scenario gives its own: argument 0 is the CPU
/// demand in microseconds, argument 1 the number of further incarnations, each created at the
/// primary's node with the same demand; the primary computes, then waits for them.
kernel::Program workload_job_program();

}  // namespace equus::pool
