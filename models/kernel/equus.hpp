// The Equus calls of Appendix B.4-B.5 and B.10: the API of simulated programs. Each call is a system
// call of the incarnation's system incarnation, which it turns into the kernel's work. Names follow
// Appendix B so that a simulated program reads like the C it models.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

struct ServiceRequest;  // models/kernel/service_protocol.hpp

class Incarnation;
class SystemIncarnation;
class Kernel;
struct Invocation;
struct PackedRef;
struct StreamRef;
struct StreamHandleRef;
struct AlienBufRef;
struct IncRef;
struct PortRef;
struct PortHandleRef;
struct KernelMessage;
struct QueuedMessage;
enum class InvokeKind : uint8_t;
struct GhostControl;

/// inc_status result (Appendix B.1 IncState, the fields the model keeps).
struct IncStatus {
  IncState is_state = IncState::Started;
  int is_node = -1;
  double is_memory = 0;  // bytes
  int is_nmsgs = 0;      // arrived invocation messages
};

/// One node's load (Section 3.4 item 2): processes running or eligible to run, now and as a time
/// average over kernel.load_average_period, and when it was read.
struct NodeLoad {
  unsigned node = 0;
  int run_queue = 0;
  double load = 0;
  double read_at = 0;  // simulated seconds
};

constexpr bool CHAN_NEW = true;
constexpr bool CHAN_OTHER = false;

/// Module identifiers returned by inc_moduleId are offset so that they never equal a reference id.
constexpr int MODULE_ID_BASE = 1 << 20;

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
  /// A stream handle (for a stream) or a port handle (for a port).
  int inc_hanCreate(int stream_or_port);
  int inc_close(int reference);

  // ---- B.6 changing the receiver (Chapter 6)
  /// Attaches `newport` (a port or port handle) to the channel of `stream`; detaches `oldport` (a port,
  /// a port handle or NO_PORT) from it, first forwarding what arrived over that channel if `move_q`.
  int inc_attachPort(int newport, int oldport, int stream, int move_q);
  /// Rebinds the stream `stream_handle` names to the channel of `stream`; unless `port` is NO_PORT,
  /// the messages from that stream already queued at `port` (a port or port handle) are forwarded.
  int inc_rebindStream(int stream_handle, int stream, int port);
  int inc_freezeStream(int stream_handle);
  int inc_unfreezeStream(int stream_handle);

  // ---- B.7 migration (Section 7.4)
  /// Migrates `child` to `node`: returns once the destination has committed memory (E_NOMEM when it
  /// cannot); EV_INC_MIGRATEDONE reports the elapsed time when the child runs there.
  int inc_migrate(int child, unsigned node);

  // ---- events (the communications subset of B.9)
  /// Waits for an event (timeout as inc_receive) of one of `types`, or of any type if none is given;
  /// returns 1 with *ev filled, 0 on timeout. Others stay queued: e.g. wait for EV_INC_DEAD while
  /// created children report EV_INC_MADE (B.9 gives the types of interest in the event list's
  /// entries; here one event is returned per call). Events about an incarnation (EV_INC_DEAD,
  /// EV_INC_MIGRATEDONE, EV_INC_MADE) carry the low 32 bits of its identifier in ed_info1 and the
  /// caller's handle on it (0 if none) in ed_reference.
  int inc_eventWait(EvDesc* ev, int timeout, const std::vector<EvType>& types = {});

  // ---- B.2 creation (a STARTED or INCHOATE incarnation from a module on disc or an INCHOATE image)
  int inc_moduleId(const std::string& modname);
  /// blueprint: inc_moduleId(...) or the handle of an INCHOATE incarnation. Returns E_OK with the new
  /// incarnation's handle in *inchan_p and a stream to its standard port in *stream_p, as soon as
  /// creation is initiated (3.2.1); EV_INC_MADE follows once its text and data are in memory (its
  /// program about to run, or INCHOATE), with the microseconds since this call in ed_info2.
  int inc_create(int blueprint, unsigned node, int* inchan_p, int* stream_p,
                 IncCreateParams* create_params_p);
  /// Forks a copy of the caller at `node` (Section 5.3, Figure 5.3): its heap, stack and references
  /// are copied (the caller blocks meanwhile); its ports are unattached but for `ports_list`, attached
  /// to the same multicast channel or to a new unicast channel whose stream is returned in
  /// `streams_list`. A simulated C++ program cannot clone its own execution state, so the copy runs
  /// `child` (the code after inc_fork's 0 return) while the caller continues after its 1 return.
  int inc_fork(unsigned node, int* inchan_p, int nports, const int* ports_list, int* streams_list,
               Program child);
  /// Starts an INCHOATE incarnation in its own right, with these parameters.
  int inc_start(int child, const IncParams* params);
  /// The launch program's creation of another RDC's incarnation (system RDCs only).
  int launch_create(RdcPtr rdc, int module, unsigned node, int* inchan_p, int* stream_p, IncCreateParams* cp);
  const IncParams& params() const;
  /// Identifier of the reference realising interface `index` of this incarnation's parameters.
  int inc_paramRef(int interface_index) const;
  /// Runs the configuration preamble (Section 5.5.1): create and deposit declared channels, then fetch
  /// the rest. Called before the program by the run-time.
  void run_preamble();

  // ---- B.7 control
  int inc_destroy(int child);
  int inc_freeze(int child);
  int inc_unfreeze(int child, int priority);
  int inc_status(int child, IncStatus* statep);
  int inc_nodeAlloc(unsigned node, GlobalId rdcid);
  int inc_nodeWithdraw(unsigned node, GlobalId rdcid, int kill);
  /// Appendix B's load call: the caller's RDC's nodes (those whose access lists admit it) with their
  /// loads, read over the bus from each card's memory (kernel.load_read and a bus read each).
  int inc_nodeLoads(std::vector<NodeLoad>* loads);
  /// One pool node's load, read the same way (system RDCs: the pool manager and its agents).
  int inc_nodeLoad(unsigned node, NodeLoad* load);
  GlobalId inc_rdcId() const;
  /// Makes `child` dependent on the caller: DEP_ABSOLUTE, DEP_GROUP or DEP_NONE (Section 7.3).
  int inc_makeDependent(int child, int type);
  /// Registers (set != 0) or cancels interest in `child`'s events; EvType::IncDead is reported.
  int inc_setInterest(int child, EvType event_type, int set);
  /// Terminates the caller's RDC: its nodes are withdrawn with kill (the caller dies too).
  int inc_rdcExit();
  /// Sets the heap segment to `new_bytes` (Unix brk): E_NOMEM when the node's memory cannot hold it
  /// (there is no virtual memory).
  int inc_brk(double new_bytes);
  /// The type of reference `reference` (RefType as int), or RT_NONE.
  int inc_testReference(int reference) const;

  // ---- B.3 stream space and the name service (run-time library calls over invocations)
  int ss_put(const std::string& label, const RefDescrip* refp, int ncopies);
  int ss_get(const std::string& label, RefDescrip* refp);
  int ss_return(const std::string& label, int keepqueue);
  int ss_delete(const std::string& label);
  int ss_print();
  int ss_createChan(const std::string& label, int* stream_p, int* port_p, ChanType chan_type);
  int ns_register(const std::string& service, int stream);
  /// Returns E_OK and a stream in *stream_p, or E_BADREF at once for an unknown service.
  int ns_lookup(const std::string& service, int* stream_p);

  /// Reports a value to the run's results (op language `record`).
  void record(const std::string& key, double value);

  // ---- B.9 software interrupts
  using Handler = std::function<void(Equus&)>;
  /// Runs `handler` (at interrupt priority `priority`) for the messages at `port` now and as they
  /// arrive; a null handler removes it. The handler typically receives with timeout 0.
  int inc_setPortHandler(int port, Handler handler, int priority);
  /// As inc_setInterest for EV_INC_DEAD, with a handler run when the child dies.
  int inc_setInterestHandler(int child, Handler handler, int priority);
  /// Runs `handler` when the stream that `stream_handle` names is closed (or its holder ends).
  int inc_setStreamHandler(int stream_handle, Handler handler, int priority);
  /// Handlers at or below this priority are held until it is lowered; returns the old priority.
  int inc_setInterruptPriority(int priority);
  /// Waits until a software interrupt has been handled.
  int inc_pause();

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
  /// A system call in progress: its exit work (syscall_exit, then the software interrupts pending)
  /// when it returns, or earlier by leave() when the call has more to do after it.
  class Syscall {
   public:
    explicit Syscall(Equus& eq) : eq_(&eq) {}
    Syscall(const Syscall&) = delete;
    Syscall& operator=(const Syscall&) = delete;
    ~Syscall() { leave(); }
    void leave() {
      if (eq_) std::exchange(eq_, nullptr)->leave();
    }

   private:
    Equus* eq_;
  };
  /// Enters a system call: its entry work now.
  Syscall enter() {
    charge_entry();
    return Syscall(*this);
  }
  /// Enters a system call whose entry work is folded into its first CPU burst (charged by the caller).
  Syscall enter_later() { return Syscall(*this); }
  void charge_entry();
  double entry() const;
  void leave();
  /// Runs the handlers of pending software interrupts not masked by the interrupt priority; true if
  /// any ran. Called at kernel exits and when a wait is woken.
  bool deliver_interrupts();
  /// A kernel message for an invocation over `s`: its destination, the channel to locate it by, and
  /// what a rebinding must know of it (its holder, stream and binding; Section 8.5.3).
  KernelMessage stream_message(const StreamRef& s);
  /// Takes the final address an answer carries as the stream's destination, unless the stream was
  /// rebound away from `sent_on` meanwhile (Section 8.5.3).
  void follow_answer(int stream, GlobalId sent_on, const KernelMessage& ans);
  bool pack_ref(const Msg& msg, PackedRef& out, double& cost);
  // One packing per reference type; false when the reference may not propagate.
  bool pack(StreamRef& s, const RefDescrip& rd, PackedRef& out);
  bool pack(StreamHandleRef& h, const RefDescrip& rd, PackedRef& out);
  bool pack(AlienBufRef& b, const RefDescrip& rd, PackedRef& out);
  bool pack(IncRef& h, const RefDescrip& rd, PackedRef& out);
  bool pack(PortRef& pr, const RefDescrip& rd, PackedRef& out);
  bool pack(PortHandleRef& h, const RefDescrip& rd, PackedRef& out);
  /// Waits until the ghost's operations on the incarnation's ports are over.
  void wait_port_ops();
  void unpack_ref(const PackedRef& ref, Msg* msg);
  int send_async(int stream, Msg* msg, bool reliable);
  /// inc_receive's wait (as `timeout` says) at `port` for a message `sel` selects: E_BADREF when the
  /// port went meanwhile, 0 for none, 1 with the port in `pr` and the message at `it`.
  int wait_message(int port, GlobalId sel, int timeout, PortRef*& pr,
                   std::deque<QueuedMessage>::iterator& it);
  /// Copies a received invocation's `n` bytes of extra data into `msg`; `cost` is the CPU work not
  /// charged yet, which it returns updated.
  double copy_extra(const QueuedMessage& q, Msg* msg, uint32_t n, double cost);
  /// The stream, once it is not frozen (inc_freezeStream); nullptr if there is none (or it went).
  StreamRef* unfrozen_stream(int stream);
  /// Takes over a propagated port (Figure 8.4); returns its identifier here.
  int receive_port(const PackedRef& ref);
  /// A handle's owner ghost and identifier there, from a local port or a port handle.
  bool port_owner(int port, KernelPortAddr* ghost, int* id) const;
  /// A request to a ghost; returns its ControlReply status.
  template <class Op>
  int ghost_request(KernelPortAddr ghost, Op op, KernelPortAddr* resolved = nullptr);
  /// A new invocation on `s` carrying `msg`, its reference packed (adding to `cost`); nullptr, having
  /// taken no sequence number of the stream, when the reference names nothing (E_BADREF).
  std::shared_ptr<Invocation> new_invocation(InvokeKind kind, StreamRef& s, const Msg& msg, double& cost);

  /// Reports the call from its construction to its destruction to the run's observer, if any.
  struct CallTrace {
    Equus* eq;
    const char* name;
    double t0;
    ~CallTrace();
  };
  /// Reads the clock only when someone observes the run: every call goes through here.
  CallTrace trace(const char* name);
  void attached(int ref, const std::string& label);

  int control(int child, GhostControl c, IncStatus* out);
  int loader_access(unsigned node, GlobalId rdcid, bool allow, bool kill);
  NodeLoad read_load(unsigned node);
  int service_call(int stream, const ServiceRequest& request, const std::string& label, Msg& msg);
  /// `called_at`: when the creating call was made (EV_INC_MADE reports the time since).
  int create(RdcPtr rdc, int module, KernelPortAddr image_ghost, unsigned node, int* inchan_p, int* stream_p,
             IncCreateParams* cp, double called_at);

  /// The kernel of the node the incarnation is at now (it may migrate).
  Kernel& k() const;

  Incarnation& inc_;
  SystemIncarnation& self_;
};

}  // namespace equus::kernel
