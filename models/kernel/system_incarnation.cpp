#include "models/kernel/system_incarnation.hpp"

#include "models/kernel/equus.hpp"
#include "models/kernel/kernel.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

SystemIncarnation::SystemIncarnation(Kernel& kernel, Incarnation& inc, Program program)
    : Process(kernel, inc.name(), m68030::Priority::System), inc_(inc), program_(std::move(program)) {}

void SystemIncarnation::start() {
  actor_ = sg::Actor::create(inc_.name(), kernel().host(), [this] {
    if (prologue_) prologue_(*this);
    Equus api(inc_, *this);
    api.run_preamble();
    if (program_) program_(api);
    settle();
    finished_ = true;
    kernel().hosting().unhost(inc_, "exited");  // main returned: the incarnation terminates
  });
  if (inc_.rdc() && inc_.module() >= 0 && inc_.rdc()->modules[inc_.module()].service) actor_->daemonize();
}

void SystemIncarnation::suspend() {
  if (actor_ && !finished_) actor_->suspend();
}

void SystemIncarnation::resume() {
  if (actor_ && !finished_) actor_->resume();
}

void SystemIncarnation::stop() {
  if (actor_ && !finished_) actor_->kill();
  finished_ = true;
  actor_ = nullptr;
}

}  // namespace equus::kernel
