#include "models/kernel/comm_manager.hpp"

#include "models/kernel/kernel.hpp"

namespace sg = simgrid::s4u;

namespace equus::kernel {

CommManager::CommManager(Kernel& kernel) : Process(kernel, "comm-manager", m68030::Priority::Kernel) {}

void CommManager::start() {
  sg::Actor::create("comm-manager", kernel().host(), [this] { run(); })->daemonize();
}

void CommManager::post(KernelMessage m) {
  queue_.push_back(std::move(m));
  wake();
}

void CommManager::run() {
  for (;;) {
    while (queue_.empty()) block();
    KernelMessage m = std::move(queue_.front());
    queue_.pop_front();
    kernel().transport().transmit(*this, m, 0);
  }
}

}  // namespace equus::kernel
