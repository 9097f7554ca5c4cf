// A system incarnation (Section 8.2): the process that runs an incarnation's user-level program.
#pragma once

#include <functional>

#include "models/kernel/process.hpp"

namespace equus::kernel {

class Incarnation;
class Equus;

using Program = std::function<void(Equus&)>;

class SystemIncarnation : public Process {
 public:
  SystemIncarnation(Kernel& kernel, Incarnation& inc, Program program);
  void start();
  void stop();
  void set_host(simgrid::s4u::Host* host) {
    if (actor_ && !finished_) actor_->set_host(host);
  }
  /// Kernel work done in this process before the program runs (loading text and data, waiting while
  /// INCHOATE), set by the loader.
  void set_prologue(std::function<void(SystemIncarnation&)> f) { prologue_ = std::move(f); }
  void suspend();
  void resume();
  bool finished() const { return finished_; }
  simgrid::s4u::ActorPtr actor() const { return actor_; }

 private:
  Incarnation& inc_;
  Program program_;
  std::function<void(SystemIncarnation&)> prologue_;
  simgrid::s4u::ActorPtr actor_;
  bool finished_ = false;
};

}  // namespace equus::kernel
