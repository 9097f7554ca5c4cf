// What a run reports as it goes: the kernel calls an Observer (none by default, at no cost) and sim/
// turns the calls into results, traces and configuration graphs.
#pragma once

#include <cstdint>
#include <string>

#include "models/kernel/types.hpp"

namespace equus::kernel {

/// Kinds of kernel message, for traces.
enum class MessageKind : uint8_t { Invocation, Reply, Ack, GhostRequest, Loader, Other };

class Observer {
 public:
  virtual ~Observer() = default;
  /// An incarnation was hosted at `node` (its processes exist from now).
  virtual void incarnation_created(GlobalId inc, const std::string& name, const std::string& rdc,
                                   const std::string& module, int node, double t) {}
  virtual void incarnation_ended(GlobalId inc, double t, const std::string& why) {}
  /// A packet left `src_node` at `t_sent` and was accepted at `dst_node` at `t_accepted`.
  virtual void kernel_message(uint64_t id, MessageKind kind, int src_node, int dst_node, double t_sent,
                              double t_accepted) {}
  /// An Equus call made by incarnation `inc` from `t0` to `t1` (e.g. "inc_invoke").
  virtual void call(GlobalId inc, const char* name, double t0, double t1) {}
  /// The configuration changed: a stream of `inc` attached to `channel`, or a port.
  virtual void stream_attached(GlobalId inc, GlobalId channel, const std::string& label) {}
  virtual void port_attached(GlobalId inc, GlobalId channel, const std::string& label) {}
  virtual void reference_closed(GlobalId inc, GlobalId channel) {}
  /// A value a program records (op language `record`), e.g. a document printed.
  virtual void record(GlobalId inc, const std::string& key, double value, double t) {}
  /// CPU busy fraction of a node over the last sampling period.
  virtual void node_load(int node, double load, double t) {}
};

}  // namespace equus::kernel
