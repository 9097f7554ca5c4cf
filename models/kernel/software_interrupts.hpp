// An incarnation's software interrupts (Section 4.4, Appendix B.9): handlers run in its own thread of
// control, at its kernel exits and while it waits, unless masked by its interrupt priority.
#pragma once

#include <functional>
#include <map>
#include <utility>

#include "models/kernel/types.hpp"

namespace equus::kernel {

class Equus;

class SoftwareInterrupts {
 public:
  struct Handler {
    std::function<void(Equus&)> fn;
    int priority = 1;
  };

  /// Something a handler may be for happened: handlers are examined at the next kernel exit or wait.
  void raise() { ++pending_; }
  /// Whether handlers are to be examined now: something happened and no handler is running.
  bool due() const { return pending_ > 0 && !running_; }
  /// Starts an examination of the handlers: what is pending is taken (false if nothing, or a handler
  /// is running).
  bool take() {
    if (!due()) return false;
    pending_ = 0;
    return true;
  }
  /// Runs `h` (after `charge`, the handler's entry work) unless masked by the priority, in which case
  /// it is kept pending until the priority is lowered; true if it ran.
  bool run(const Handler& h, Equus& eq, const std::function<void()>& charge);
  /// Sets the interrupt priority and returns the old one; lowering it re-examines held interrupts.
  int set_priority(int priority);

  // Handlers: of message arrival at a port, of a child's death, of a watched stream's closure.
  void set_port_handler(int port, Handler h) { ports_[port] = std::move(h); }
  void remove_port_handler(int port) { ports_.erase(port); }
  void set_death_handler(GlobalId child, Handler h) { deaths_[child] = std::move(h); }
  void set_stream_handler(GlobalId stream, Handler h) { streams_[stream] = std::move(h); }
  /// Whether an event about `about` (a child or a stream) has a handler.
  bool watches(GlobalId about) const { return deaths_.count(about) || streams_.count(about); }
  // Copies: a handler may change the handler tables.
  std::map<int, Handler> port_handlers() const { return ports_; }
  std::map<GlobalId, Handler> death_handlers() const { return deaths_; }
  std::map<GlobalId, Handler> stream_handlers() const { return streams_; }
  void remove_death_handler(GlobalId child) { deaths_.erase(child); }
  void remove_stream_handler(GlobalId stream) { streams_.erase(stream); }

 private:
  std::map<int, Handler> ports_;         // port -> handler of message arrival
  std::map<GlobalId, Handler> deaths_;   // child incarnation -> handler of its death
  std::map<GlobalId, Handler> streams_;  // watched stream -> handler of its closure
  int priority_ = 0;
  int pending_ = 0;
  bool running_ = false;
};

inline bool SoftwareInterrupts::run(const Handler& h, Equus& eq, const std::function<void()>& charge) {
  if (!h.fn || h.priority <= priority_) {
    ++pending_;  // masked: kept until the priority is lowered
    return false;
  }
  charge();
  int saved = priority_;
  priority_ = h.priority;
  running_ = true;
  h.fn(eq);
  running_ = false;
  priority_ = saved;
  return true;
}

inline int SoftwareInterrupts::set_priority(int priority) {
  int old = std::exchange(priority_, priority);
  if (priority < old && pending_ == 0) pending_ = 1;  // re-examine held ones
  return old;
}

}  // namespace equus::kernel
