#include "models/kernel/process.hpp"

#include "models/kernel/kernel.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

Process::Process(Kernel& kernel, std::string name, m68030::Priority prio)
    : kernel_(&kernel), name_(std::move(name)), prio_(prio), sem_(sg::Semaphore::create(0)) {}

void Process::compute(double seconds) {
  seconds += owed_;
  owed_ = 0;
  kernel_->cpu().run(this, prio_, seconds);
}

void Process::block() {
  settle();
  sem_->acquire();
}

bool Process::block_until(double deadline) {
  settle();
  double left = deadline - sg::Engine::get_clock();
  if (left <= 0) return false;
  return !sem_->acquire_timeout(left);
}

}  // namespace equus::kernel
