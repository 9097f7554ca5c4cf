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
  virtual void incarnation_created(GlobalId /*inc*/, const std::string& /*name*/, const std::string& /*rdc*/,
                                   const std::string& /*module*/, int /*node*/, double /*t*/) {}
  virtual void incarnation_ended(GlobalId /*inc*/, double /*t*/, const std::string& /*why*/) {}
  /// A loader's incarnation was made at `t` (text and data in memory: EV_INC_MADE), from a creating
  /// call made at `called`.
  virtual void incarnation_made(GlobalId /*inc*/, double /*called*/, double /*t*/) {}
  /// A packet left `src_node` at `t_sent` and was accepted at `dst_node` at `t_accepted`.
  virtual void kernel_message(uint64_t /*id*/, MessageKind /*kind*/, int /*src_node*/, int /*dst_node*/,
                              double /*t_sent*/, double /*t_accepted*/) {}
  /// An Equus call made by incarnation `inc` from `t0` to `t1` (e.g. "inc_invoke").
  virtual void call(GlobalId /*inc*/, const char* /*name*/, double /*t0*/, double /*t1*/) {}
  /// The configuration changed: a stream of `inc` attached to `channel`, or a port.
  virtual void stream_attached(GlobalId /*inc*/, GlobalId /*channel*/, const std::string& /*label*/) {}
  virtual void port_attached(GlobalId /*inc*/, GlobalId /*channel*/, const std::string& /*label*/) {}
  virtual void reference_closed(GlobalId /*inc*/, GlobalId /*channel*/) {}
  /// A value a program records (op language `record`), e.g. a document printed.
  virtual void record(GlobalId /*inc*/, const std::string& /*key*/, double /*value*/, double /*t*/) {}
  /// A migration (Section 7.4.4): its phases' end times, the bytes it moved over the bus and how
  /// long the incarnation was frozen.
  struct Migration {
    GlobalId inc = 0;
    int from = -1, to = -1;
    double start = 0;     // memory committed at the destination
    double pincdata = 0;  // M3 done: pincdata fetched, ports set up
    double text = 0;      // M4: text pre-copied while the incarnation ran
    double frozen = 0;    // frozen when heap copying began
    double restart = 0;   // runs at the destination
    double bytes = 0;
    int ports = 0;
    int messages = 0;  // arrived messages moved with its ports
  };
  virtual void migration(const Migration& /*m*/) {}
  /// CPU busy fraction of a node over the last sampling period.
  virtual void node_load(int /*node*/, double /*load*/, double /*t*/) {}
};

}  // namespace equus::kernel
