#include "models/programs/op_program.hpp"

#include <fmt/format.h>
#include <xbt/log.h>

#include <algorithm>
#include <list>
#include <map>
#include <optional>

#include "models/kernel/equus.hpp"
#include "models/kernel/incarnation.hpp"
#include "models/params/params.hpp"
#include "models/programs/checked_arith.hpp"
#include "models/support/overloaded.hpp"

XBT_LOG_EXTERNAL_CATEGORY(equus);
XBT_LOG_NEW_SUBCATEGORY(equus_programs, equus,
                        "What simulated modules run: the op language and C++ programs");
XBT_LOG_NEW_DEFAULT_SUBCATEGORY(programs_ops, equus_programs, "The op language's interpreter: each op run");

using namespace equus::kernel;

namespace equus::programs {

namespace {

/// The buffer a receive op offers. A program of the time received into a static buffer; 64 kB, the
/// most the kernel copies in one kernel message (vme.max_copy_per_message), is the size the scenarios
/// were written for: a longer message is cut to it, and so costs the copy of 64 kB.
constexpr std::size_t receive_buffer_bytes = 64 * 1024;

/// One running op program: its variables, named references and received messages. Each op has its
/// handler `exec`; values and conditions are computed when the op runs.
class Interpreter {
 public:
  Interpreter(Equus& eq, const OpHooks& hooks, const OpLimits& limits)
      : eq_(eq), hooks_(hooks), limits_(limits) {
    for (const auto& f : eq.params().ifaces)
      if (!f.name.empty()) refs_[f.name] = f.ref;
  }

  /// Runs `ops`, the block under key `field` of the op running now (nullptr for the program's array).
  void run(const ops::Block& ops, const char* field = nullptr) {
    path_.push_back({field, 0});
    for (std::size_t i = 0; i < ops.size() && !stop_; ++i) {
      path_.back().index = i;
      step();
      std::visit(
          [this](const auto& o) {
            XBT_DEBUG("%s: %s", eq_.incarnation().name().c_str(), std::decay_t<decltype(o)>::name.data());
            exec(o);
          },
          ops[i].v);
    }
    path_.pop_back();
  }

 private:
  struct Received {
    Msg msg;
    int handle = 0;
    std::vector<std::byte> data;
  };
  /// Where the running op is: the key of each nested block and the op's index in it.
  struct Frame {
    const char* field;
    std::size_t index;
  };
  /// The data of an inc_asinvoke not known to be completed: the kernel reads it from here when the
  /// receiver takes the message (Appendix B: the caller must not reuse it until then).
  struct Outstanding {
    GlobalId stream = 0;
    uint64_t id = 0;  // the call's asinvoke id; 0 when unknown (kept until the program ends)
    std::vector<std::byte> data;
  };

  // ---- Where an op is, and the step budget ----

  /// The JSON pointer of the op at path_[0..depth), from the program's op array.
  std::string pointer(std::size_t depth) const {
    std::string p;
    for (std::size_t i = 0; i < depth; ++i) {
      if (path_[i].field) p.append("/").append(path_[i].field);
      p.append("/").append(std::to_string(path_[i].index));
    }
    return p;
  }

  /// Counts an op against the budget of the current simulated instant. Over it, the program stops
  /// naming the innermost loop (a body taking no simulated time is what never yields).
  void step() {
    double now = eq_.now();
    if (now != instant_) {
      instant_ = now;
      steps_ = 0;
    }
    if (++steps_ <= limits_.max_steps_per_instant) return;
    std::size_t depth = path_.size();
    for (std::size_t d = path_.size(); d-- > 1;)
      if (path_[d].field && std::string_view(path_[d].field) == "body") {
        depth = d;
        break;
      }
    throw ops::OpError(pointer(depth),
                       fmt::format("{} ops at simulated time {:g} s without time passing: a loop whose body "
                                   "takes no simulated time never yields (limit "
                                   "programs.max_steps_per_instant)",
                                   limits_.max_steps_per_instant, now));
  }

  /// Gives a call's Equus status to the program's `status` variable, and records a failed call
  /// ("op_failed:<op>" with its status) so that results show it even when the program ignores it.
  int outcome(std::string_view op, const ops::Var& status, int rc) {
    set(status, rc);
    if (rc < 0) eq_.record(fmt::format("op_failed:{}", op), rc);
    return rc;
  }

  // ---- Values, variables and references ----

  int64_t value(const ops::Expr& e) {
    return std::visit(Overloaded{
                          [](int64_t v) { return v; },
                          [&](const ops::Var& v) { return vars_[v.name]; },
                          [&](const ops::Arith& a) { return arith(a); },
                          [&](const ops::Arg& a) {
                            const auto& args = eq_.params().args;
                            return a.index < args.size() ? args[a.index] : 0;
                          },
                          [&](const ops::HeadWord& h) {
                            auto it = msgs_.find(h.msg);
                            return it == msgs_.end() ? 0 : int64_t{it->second.msg.get<uint32_t>(4 * h.word)};
                          },
                          [&](const ops::NowMs&) { return static_cast<int64_t>(eq_.now() * 1000); },
                      },
                      e.v);
  }

  int64_t arith(const ops::Arith& a) { return ops::arith_value(a, value(*a.lhs), value(*a.rhs)); }

  bool cond(const ops::Cond& c) {
    int64_t x = value(c.lhs), y = value(c.rhs);
    switch (c.kind) {
      case ops::Cond::Lt:
        return x < y;
      case ops::Cond::Le:
        return x <= y;
      case ops::Cond::Eq:
        return x == y;
      case ops::Cond::Ne:
        return x != y;
      case ops::Cond::Gt:
        return x > y;
      case ops::Cond::Ge:
        break;
    }
    return x >= y;
  }

  void set(const ops::Var& var, int64_t v) {
    if (!var.name.empty()) vars_[var.name] = v;
  }

  /// The reference a name is bound to; -1 (never a reference, unlike NO_PORT) for an unbound name.
  int ref(const std::string& name) const {
    auto it = refs_.find(name);
    return it == refs_.end() ? -1 : it->second;
  }

  /// An optional reference: NO_PORT when not named.
  int port_or_none(const std::string& name) const { return name.empty() ? NO_PORT : ref(name); }

  /// A node named by name or hexadecimal id, or a pool index.
  unsigned node(const ops::NodeRef& n) {
    if (const auto* name = std::get_if<std::string>(&n.v))
      return static_cast<unsigned>(hooks_.node_index ? hooks_.node_index(*name) : -1);
    return static_cast<unsigned>(value(std::get<ops::Expr>(n.v)));
  }

  /// The reference descriptor for the reference `name`, of its actual type.
  RefDescrip descriptor(const std::string& name) {
    RefDescrip d;
    d.rd_obj = ref(name);
    int type = eq_.inc_testReference(d.rd_obj);
    d.rd_type = type == RT_NONE ? RefType::Stream : static_cast<RefType>(type);
    return d;
  }

  /// Makes a reconfiguring call, reporting it to the run.
  template <class Call>
  int reconfigure(const char* kind, const std::string& detail, Call call) {
    uint64_t token =
        hooks_.reconfiguring ? hooks_.reconfiguring({kind, eq_.incarnation().gid(), "program", detail}) : 0;
    int rc = call();
    if (hooks_.reconfigured) hooks_.reconfigured(token, rc);
    return rc;
  }

  // ---- Messages ----

  /// Header words and `bytes` of data (zeros, in `buf`).
  void fill(Msg& m, const ops::Head& head, const ops::Bytes& bytes, std::vector<std::byte>& buf) {
    for (std::size_t i = 0; i < head.words.size() && i < 8; ++i)
      m.put<uint32_t>(4 * i, static_cast<uint32_t>(value(head.words[i])));
    auto n = static_cast<uint32_t>(ops::bounded_value(bytes, value(bytes)));
    buf.assign(n, std::byte{0});
    m.m_base = n ? buf.data() : nullptr;
    m.m_cnt = n;
  }

  /// The four message-passing ops: `call` makes the Equus call on the stream with the message.
  template <class Call>
  int pass(const ops::Message& op, std::vector<std::byte>& buf, Msg& m, Call call) {
    fill(m, op.head, op.bytes, buf);
    if (!op.ref.empty()) {
      m.m_ref = descriptor(op.ref);
      m.m_ref.rd_keep = op.keep;
      if (op.keep_queuing) m.m_ref.rd_flags |= RD_KEEP_QUEUING;
    }
    int s = ref(op.stream);
    auto make = [&] { return call(s, &m); };
    int rc =
        m.m_ref.rd_type == RefType::Port  // port propagation (Section 6.2.1)
            ? reconfigure(
                  "propagate_port",
                  fmt::format("port {} over {}{}", op.ref, op.stream, m.m_ref.rd_keep ? " (kept)" : ""), make)
            : make();
    if (!op.ref.empty() && !op.keep) refs_.erase(op.ref);
    return rc;
  }

  /// The stream a reference names (0 if none).
  GlobalId stream_gid(int ref) {
    auto* s = eq_.incarnation().ref<StreamRef>(ref);
    return s ? s->gid : 0;
  }
  /// The asinvoke ids outstanding on the streams with global id `gid`; nullopt when the incarnation has
  /// no such stream any more (completion can then no longer be seen).
  std::optional<std::vector<uint64_t>> outstanding_ids(GlobalId gid) {
    std::optional<std::vector<uint64_t>> ids;
    for (auto& [id, r] : eq_.incarnation().refs())
      if (auto* s = std::get_if<StreamRef>(&r); s && s->gid == gid) {
        if (!ids) ids.emplace();
        ids->insert(ids->end(), s->outstanding.begin(), s->outstanding.end());
      }
    return ids;
  }
  /// Frees the data of completed asinvokes. Ids may repeat on a stream (they are the node's, and a
  /// migrated incarnation's calls were numbered on two nodes): with k listed outstanding, the newest k
  /// of ours with that id stay; the kernel completes the oldest first.
  void release_completed_asinvokes() {
    std::map<std::pair<GlobalId, uint64_t>, long> left;  // (stream, id) -> listed ones not yet matched
    for (auto it = outstanding_.end(); it != outstanding_.begin();) {
      --it;  // newest first
      if (it->id == 0) continue;
      auto [l, fresh] = left.try_emplace({it->stream, it->id}, 0);
      if (fresh) {
        auto ids = outstanding_ids(it->stream);
        l->second = ids ? std::count(ids->begin(), ids->end(), it->id) : -1;
      }
      if (l->second < 0) continue;  // the stream is gone: its completions can no longer be seen
      if (l->second > 0) {
        --l->second;
        continue;
      }
      it = outstanding_.erase(it);  // completed; `it` now the newer neighbour, stepped back above
    }
  }

  // ---- One handler per op ----

  void exec(const ops::Set& op) { vars_[op.var.name] = value(op.value); }
  void exec(const ops::Loop& op) {
    int64_t n = value(op.count);
    for (int64_t i = 0; i < n && !stop_; ++i) {
      set(op.var, i);
      run(op.body, "body");
    }
  }
  void exec(const ops::While& op) {
    while (!stop_ && cond(op.cond)) run(op.body, "body");
  }
  void exec(const ops::If& op) {
    bool yes = cond(op.cond);
    run(yes ? op.then : op.otherwise, yes ? "then" : "else");
  }
  void exec(const ops::Compute& op) {
    eq_.compute(static_cast<double>(ops::bounded_value(op.ms, value(op.ms))) / 1000.0);
  }
  void exec(const ops::Sleep& op) {
    eq_.inc_sleep(static_cast<int>(ops::bounded_value(op.ms, value(op.ms))));
  }

  void exec(const ops::Invoke& op) {
    Msg m;
    int rc = outcome(op.name, op.status,
                     pass(op, scratch_, m, [&](int s, Msg* msg) { return eq_.inc_invoke(s, msg); }));
    // A failed call has no reply: its header words read 0, not the request's.
    if (!op.msg.empty()) msgs_[op.msg].msg.m_head = rc == E_OK ? m.m_head : decltype(m.m_head){};
    if (rc == E_OK && !op.as.empty() && m.m_ref.rd_type != RefType::None) refs_[op.as] = m.m_ref.rd_obj;
  }
  void exec(const ops::Asinvoke& op) {
    // Each call gets its own buffer, the caller's until the call completes (Appendix B): the kernel
    // reads it when the receiver takes the message, maybe after later calls on the same stream.
    release_completed_asinvokes();
    int s = ref(op.stream);
    Outstanding o{stream_gid(s), 0, {}};
    auto before = outstanding_ids(o.stream);
    Msg m;
    int rc = outcome(op.name, op.status,
                     pass(op, o.data, m, [&](int st, Msg* msg) { return eq_.inc_asinvoke(st, msg); }));
    if (o.data.empty() || (rc != E_OK && rc != E_TIMEOUT)) return;  // nothing for the kernel to read
    // This call's id is the one now outstanding that was not before; none if already completed. A
    // timed-out call may still be delivered (its acknowledgement lost): its data stays, id unknown.
    if (rc == E_OK) {
      auto after = outstanding_ids(o.stream);
      if (!after) return;
      for (uint64_t id : *after)  // the id listed once more than before (ids may repeat: see above)
        if (std::count(after->begin(), after->end(), id) >
            (before ? std::count(before->begin(), before->end(), id) : 0))
          o.id = id;
      if (o.id == 0) return;
    }
    outstanding_.push_back(std::move(o));
  }
  void exec(const ops::Send& op) {
    Msg m;
    outcome(op.name, op.status, pass(op, scratch_, m, [&](int s, Msg* msg) { return eq_.inc_send(s, msg); }));
  }
  void exec(const ops::Dgram& op) {
    Msg m;
    outcome(op.name, op.status,
            pass(op, scratch_, m, [&](int s, Msg* msg) { return eq_.inc_dgram(s, msg); }));
  }

  void exec(const ops::Receive& op) {
    auto& r = msgs_[op.msg];
    r.data.resize(receive_buffer_bytes);
    r.msg = Msg{};
    r.msg.m_base = r.data.data();
    r.msg.m_cnt = static_cast<uint32_t>(r.data.size());
    int timeout = static_cast<int>(value(op.timeout_ms));
    int rc = eq_.inc_receive(ref(op.port), &r.msg, op.block_invoker ? 1 : 0, 0, timeout);
    r.handle = rc > 1 ? rc : 0;
    outcome(op.name, op.status, rc);
    if (rc >= 1 && !op.as.empty() && r.msg.m_ref.rd_type != RefType::None) refs_[op.as] = r.msg.m_ref.rd_obj;
  }
  void exec(const ops::Reply& op) {
    auto& r = msgs_[op.msg];
    Msg m;
    fill(m, op.head, op.bytes, scratch_);
    // No invocation awaiting a reply (none received, or already answered): no call, status E_BADREF.
    if (r.handle > 1)
      outcome(op.name, op.status, eq_.inc_reply(r.handle, &m));
    else
      set(op.status, E_BADREF);
    r.handle = 0;
  }

  void exec(const ops::SsPut& op) {
    RefDescrip d = descriptor(op.ref);
    outcome(op.name, op.status, eq_.ss_put(op.label, &d, static_cast<int>(op.copies.n)));
  }
  void exec(const ops::SsGet& op) {
    RefDescrip d;
    if (outcome(op.name, op.status, eq_.ss_get(op.label, &d)) == E_OK) refs_[op.as] = d.rd_obj;
  }
  void exec(const ops::Register& op) {
    outcome(op.name, op.status, eq_.ns_register(op.service, ref(op.ref)));
  }
  void exec(const ops::Lookup& op) {
    int s = 0;
    int rc = eq_.ns_lookup(op.service, &s);
    if (rc == E_OK) refs_[op.as] = s;
    set(op.status, rc == E_OK ? 1 : 0);
    if (rc != E_OK && rc != E_BADREF) eq_.record("op_failed:lookup", rc);  // E_BADREF: not registered
  }
  void exec(const ops::ChanCreate& op) {
    int s = 0, p = 0;
    if (outcome(op.name, op.status, eq_.inc_chanCreate(op.type, &s, &p)) != E_OK) return;
    refs_[op.stream] = s;
    refs_[op.port] = p;
  }

  void exec(const ops::EventWait& op) {
    EvDesc ev;
    int timeout = static_cast<int>(value(op.timeout_ms));
    std::vector<EvType> types;
    for (const auto& t : op.types.types) types.push_back(static_cast<EvType>(value(t)));
    int rc = outcome(op.name, op.status, eq_.inc_eventWait(&ev, timeout, types));
    set(op.event, rc == 1 ? static_cast<int64_t>(ev.ed_evtype) : 0);
    set(op.info, rc == 1 ? ev.ed_info2 : 0);
  }
  void exec(const ops::Record& op) { eq_.record(op.key, static_cast<double>(value(op.value))); }
  void exec(const ops::Exit&) { stop_ = true; }
  void exec(const ops::RdcExit&) {
    stop_ = true;
    eq_.inc_rdcExit();
  }
  void exec(const ops::HanCreate& op) {
    int h = eq_.inc_hanCreate(ref(op.ref));
    if (h > 0) refs_[op.as] = h;
    outcome(op.name, op.status, h > 0 ? E_OK : h);
  }

  void exec(const ops::AttachPort& op) {
    int detach = port_or_none(op.detach);
    std::string detail = fmt::format("port {} to the channel of {}", op.port, op.stream);
    if (!op.detach.empty()) detail += ", detaching " + op.detach;
    outcome(op.name, op.status, reconfigure("attach_port", detail, [&] {
              return eq_.inc_attachPort(ref(op.port), detach, ref(op.stream), op.move_queue ? 1 : 0);
            }));
  }
  void exec(const ops::RebindStream& op) {
    int port = port_or_none(op.port);
    std::string detail = fmt::format("stream {} to the channel of {}", op.handle, op.stream);
    if (!op.port.empty()) detail += ", forwarding from " + op.port;
    outcome(op.name, op.status, reconfigure("rebind_stream", detail, [&] {
              return eq_.inc_rebindStream(ref(op.handle), ref(op.stream), port);
            }));
  }
  void exec(const ops::FreezeStream& op) {
    outcome(op.name, op.status, reconfigure("freeze_stream", "stream " + op.handle, [&] {
              return eq_.inc_freezeStream(ref(op.handle));
            }));
  }
  void exec(const ops::UnfreezeStream& op) {
    outcome(op.name, op.status, reconfigure("unfreeze_stream", "stream " + op.handle, [&] {
              return eq_.inc_unfreezeStream(ref(op.handle));
            }));
  }
  void exec(const ops::Migrate& op) {
    unsigned to = node(op.node);
    outcome(op.name, op.status, reconfigure("migrate", fmt::format("{} to node {}", op.incarnation, to), [&] {
              return eq_.inc_migrate(ref(op.incarnation), to);
            }));
  }

  void exec(const ops::Create& op) {
    IncCreateParams cp;
    for (const auto& a : op.args) cp.params.args.push_back(value(a));
    cp.params.ifaces = op.interfaces.list;
    int module = eq_.inc_moduleId(op.module);
    int h = 0, s = 0;
    int rc = module < 0 ? module : eq_.inc_create(module, node(op.node), &h, &s, &cp);
    if (rc == E_OK) {
      refs_[op.as] = h;
      if (auto* child = eq_.incarnation().ref<IncRef>(h); child && hooks_.named)
        hooks_.named(child->inc, op.as);
      if (!op.stream.empty()) refs_[op.stream] = s;
    }
    outcome(op.name, op.status, rc);
  }
  void exec(const ops::Destroy& op) { outcome(op.name, op.status, eq_.inc_destroy(ref(op.incarnation))); }

  Equus& eq_;
  const OpHooks& hooks_;
  const OpLimits& limits_;
  std::vector<Frame> path_;
  double instant_ = -1;  // the simulated time steps_ counts at
  int steps_ = 0;
  std::map<std::string, int64_t> vars_;
  std::map<std::string, int> refs_;
  std::map<std::string, Received> msgs_;
  std::vector<std::byte> scratch_;
  std::list<Outstanding> outstanding_;  // oldest first
  bool stop_ = false;
};

}  // namespace

OpLimits OpLimits::load(const std::string& dir) {
  OpLimits l;
  params::Binder b;
  b("max_steps_per_instant", l.max_steps_per_instant);
  params::ParamSet set;
  set.load(dir + "/models/programs/programs.json", "programs", b);
  return l;
}

const OpLimits& OpLimits::shipped() {
  static const OpLimits limits = load(params::data_dir());
  return limits;
}

Program op_program(std::shared_ptr<const ops::Block> ops, OpHooks hooks, OpLimits limits) {
  return [ops = std::move(ops), hooks = std::move(hooks), limits](Equus& eq) {
    try {
      Interpreter(eq, hooks, limits).run(*ops);
    } catch (const ops::OpError& e) {  // a computed value out of range, a loop that never yields
      if (!hooks.error) throw;
      hooks.error(e.pointer(), e.message());
    }
  };
}

}  // namespace equus::programs
