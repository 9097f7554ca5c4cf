#include "models/kernel/system_incarnation.hpp"

#include "models/kernel/equus.hpp"
#include "models/kernel/kernel.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

SystemIncarnation::SystemIncarnation(Kernel& kernel, Incarnation& inc, Program program)
    : Process(kernel, inc.name(), m68030::Priority::System), inc_(inc), program_(std::move(program)) {}

void SystemIncarnation::start() {
  actor_ = sg::Actor::create(inc_.name(), kernel().host(), [this] {
    Equus api(inc_, *this);
    program_(api);
    settle();
    finished_ = true;
  });
}

void SystemIncarnation::stop() {
  if (actor_ && !finished_) actor_->kill();
  finished_ = true;
  actor_ = nullptr;
}

}  // namespace equus::kernel
