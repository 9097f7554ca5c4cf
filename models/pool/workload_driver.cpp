#include "models/pool/workload_driver.hpp"

#include <fmt/format.h>
#include <xbt/log.h>

#include <cmath>
#include <random>

#include "models/kernel/incarnation.hpp"
#include "models/kernel/kernel.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus_pool);
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(pool_workload, equus_pool, "Arriving jobs: launches, ends, metrics");

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::pool {

WorkloadDriver::WorkloadDriver(WorkloadPlan plan, std::function<void(const JobRecord&)> done)
    : plan_(std::move(plan)), done_(std::move(done)) {}

void WorkloadDriver::run(Equus& eq) {
  JobStream jobs(plan_.spec, plan_.seed);
  // Where each job arrives: a stream of its own, so that arrivals and shapes stay common to policies.
  std::mt19937_64 home_rng(plan_.seed * 0x9E3779B97F4A7C15ULL + 3);
  while (auto job = jobs.next()) {
    int home = -1;
    if (!plan_.homes.empty())
      home = plan_.homes[std::uniform_int_distribution<std::size_t>(0, plan_.homes.size() - 1)(home_rng)];
    if (job->arrival_s > eq.now()) sg::this_actor::sleep_until(job->arrival_s);
    pool_->spawn_launch(fmt::format("launch:job-{}", job->id),
                        [this, j = *job, home](Equus& e) { run_job(e, j, home); });
  }
}

void WorkloadDriver::run_job(Equus& eq, const Job& job, int home) {
  JobRecord rec;
  rec.id = job.id;
  rec.arrival = job.arrival_s;
  rec.home = home;
  rec.incarnations = job.incarnations;
  rec.demand_s = job.demand_s;
  rec.counted = job.counted;
  LaunchSpec spec;
  spec.name = fmt::format("job-{}", job.id);
  spec.user = job.user;
  spec.groups = job.groups;
  spec.nodes = 1;
  spec.modules = plan_.modules;
  spec.primary_module = plan_.job_module;
  spec.home = home;
  auto demand_us = static_cast<int64_t>(std::llround(job.demand_s * 1e6));
  spec.primary_params.args = {demand_us, job.incarnations - 1};
  Launched l;
  rec.status = pool_->launch(eq, spec, &l);
  rec.admitted = l.admitted_at;
  if (!l.nodes.empty()) rec.node = static_cast<int>(l.nodes.front());
  if (rec.status == E_OK) {
    rec.started = eq.now();
    rec.idle_s = eq.incarnation().kernel().network().kernel(rec.node).cpu().work_time(job.demand_s);
    auto* primary = eq.incarnation().ref<IncRef>(l.primary);
    uint32_t low = primary ? static_cast<uint32_t>(primary->inc) : 0;
    // Interest in its death; refused if it has already ended.
    if (eq.inc_setInterest(l.primary, EvType::IncDead, 1) == E_OK)
      for (EvDesc ev; eq.inc_eventWait(&ev, -1, {EvType::IncDead}) == 1;)
        if (ev.ed_info1 == low) break;
    rec.ended = eq.now();
  } else {
    XBT_VERB("job %d not launched: status %d", job.id, rec.status);
  }
  if (l.rdc) pool_->terminate(eq, l);
  if (done_) done_(rec);
}

Program workload_job_program() {
  return [](Equus& eq) {
    const auto& args = eq.params().args;
    double demand = args.empty() ? 0 : static_cast<double>(args[0]) / 1e6;
    int more = args.size() > 1 ? static_cast<int>(args[1]) : 0;
    int node = eq.incarnation().kernel().node();
    int module = eq.incarnation().module();
    for (int i = 0; i < more; ++i) {
      int h = 0, s = 0;
      IncCreateParams cp;
      cp.params.args = {args.empty() ? 0 : args[0], 0};
      eq.inc_create(MODULE_ID_BASE + module, static_cast<unsigned>(node), &h, &s, &cp);
    }
    eq.compute(demand);
    for (int ended = 0; ended < more;) {
      EvDesc ev;
      if (eq.inc_eventWait(&ev, -1, {EvType::IncDead}) != 1) break;
      ++ended;
    }
  };
}

}  // namespace equus::pool
