// The Equus calls of Appendix B.4-B.5 and B.10: the API of simulated programs. Each call is a system
// call of the incarnation's system incarnation, which it turns into the kernel's work. Names follow
// Appendix B so that a simulated program reads like the C it models.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "models/kernel/types.hpp"

namespace equus::kernel {

class Incarnation;
class SystemIncarnation;
class Kernel;
struct Invocation;
struct PackedRef;
struct StreamRef;
enum class InvokeKind : uint8_t;

/// inc_testPort selection entry (Appendix B.1 SelectMessages).
struct SelectMessages {
  int sm_smhan = 0;  // stream handle
  int sm_nmsgs = 0;  // arrived messages from that stream
};

class Equus {
 public:
  Equus(Incarnation& inc, SystemIncarnation& self);

  // ---- B.4.1 message passing
  int inc_invoke(int stream, Msg* msg);
  int inc_asinvoke(int stream, Msg* msg);
  int inc_send(int stream, Msg* msg);
  int inc_dgram(int stream, Msg* msg);
  /// timeout: < 0 waits indefinitely, 0 polls, > 0 milliseconds. Returns 0 (nothing), 1 (a message)
  /// or a reply handle (> 1) when the invoker was left blocked.
  int inc_receive(int port, Msg* msg, int block_invoker, int selector, int timeout);
  int inc_reply(int reply_handle, Msg* msg);
  int inc_forward(int stream, int reply_handle, Msg* msg);

  // ---- B.4.2 data copying with buffer handles
  int inc_copyto(int buffer_handle, unsigned offset, const std::byte* data, unsigned nbytes);
  int inc_copyfrom(int buffer_handle, unsigned offset, std::byte* data, unsigned nbytes);

  // ---- B.4.3 auxiliary
  int inc_testPort(int port, int nheader, std::byte* header_array, int nselect, SelectMessages* select_array);
  int inc_setBufferLimit(int stream, int limit);

  // ---- B.5 channels, streams and ports
  int inc_chanCreate(ChanType chantype, int* stream_p, int* port_p);
  int inc_portCreate(int stream);
  int inc_hanCreate(int stream_or_port);
  int inc_close(int reference);

  // ---- events (the communications subset of B.9)
  /// Waits for an event (timeout as inc_receive); returns 1 with *ev filled, 0 on timeout.
  int inc_eventWait(EvDesc* ev, int timeout);

  // ---- B.8 / B.10
  int inc_time(TimeBuf* time_buf);
  int inc_sleep(int nmillisecs);
  GlobalId inc_self() const;
  /// The kernel identifier of the node this incarnation runs at.
  unsigned inc_where() const;

  /// User-level computation of `seconds` (simulation aid: the program's own work).
  void compute(double seconds);
  /// Simulated time in seconds (simulation aid, not an Equus call: no cost, full resolution).
  double now() const;
  Incarnation& incarnation() { return inc_; }

 private:
  double entry() const;
  void leave();
  bool pack_ref(const Msg& msg, PackedRef& out, double& cost);
  void unpack_ref(const PackedRef& ref, Msg* msg);
  int send_async(int stream, Msg* msg, bool reliable);
  std::shared_ptr<Invocation> new_invocation(InvokeKind kind, StreamRef& s, const Msg& msg);

  Incarnation& inc_;
  SystemIncarnation& self_;
  Kernel& k_;
};

}  // namespace equus::kernel
