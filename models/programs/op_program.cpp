#include "models/programs/op_program.hpp"

#include <fmt/format.h>
#include <xbt/log.h>

#include <map>

#include "models/kernel/equus.hpp"
#include "models/kernel/incarnation.hpp"
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
  Interpreter(Equus& eq, const OpHooks& hooks) : eq_(eq), hooks_(hooks) {
    for (const auto& f : eq.params().ifaces)
      if (!f.name.empty()) refs_[f.name] = f.ref;
  }

  void run(const ops::Block& ops) {
    for (const auto& op : ops) {
      if (stop_) return;
      std::visit(
          [this](const auto& o) {
            XBT_DEBUG("%s: %s", eq_.incarnation().name().c_str(), std::decay_t<decltype(o)>::name.data());
            exec(o);
          },
          op.v);
    }
  }

 private:
  struct Received {
    Msg msg;
    int handle = 0;
    std::vector<std::byte> data;
  };

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
  void pass(const ops::Message& op, std::vector<std::byte>& buf, Msg& m, Call call) {
    fill(m, op.head, op.bytes, buf);
    if (!op.ref.empty()) {
      m.m_ref = descriptor(op.ref);
      m.m_ref.rd_keep = op.keep;
      if (op.keep_queuing) m.m_ref.rd_flags |= RD_KEEP_QUEUING;
    }
    int s = ref(op.stream);
    auto make = [&] { return call(s, &m); };
    if (m.m_ref.rd_type == RefType::Port)  // port propagation (Section 6.2.1)
      reconfigure("propagate_port",
                  fmt::format("port {} over {}{}", op.ref, op.stream, m.m_ref.rd_keep ? " (kept)" : ""),
                  make);
    else
      make();
    if (!op.ref.empty() && !op.keep) refs_.erase(op.ref);
  }

  // ---- One handler per op ----

  void exec(const ops::Set& op) { vars_[op.var.name] = value(op.value); }
  void exec(const ops::Loop& op) {
    int64_t n = value(op.count);
    for (int64_t i = 0; i < n && !stop_; ++i) {
      set(op.var, i);
      run(op.body);
    }
  }
  void exec(const ops::While& op) {
    while (!stop_ && cond(op.cond)) run(op.body);
  }
  void exec(const ops::If& op) { run(cond(op.cond) ? op.then : op.otherwise); }
  void exec(const ops::Compute& op) {
    eq_.compute(static_cast<double>(ops::bounded_value(op.ms, value(op.ms))) / 1000.0);
  }
  void exec(const ops::Sleep& op) {
    eq_.inc_sleep(static_cast<int>(ops::bounded_value(op.ms, value(op.ms))));
  }

  void exec(const ops::Invoke& op) {
    Msg m;
    pass(op, scratch_, m, [&](int s, Msg* msg) { return eq_.inc_invoke(s, msg); });
    if (!op.msg.empty()) msgs_[op.msg].msg.m_head = m.m_head;
    if (!op.as.empty() && m.m_ref.rd_type != RefType::None) refs_[op.as] = m.m_ref.rd_obj;
  }
  void exec(const ops::Asinvoke& op) {
    Msg m;  // its buffer stays valid until the receiver takes it: one per stream
    pass(op, asinvoke_buffers_[ref(op.stream)], m, [&](int s, Msg* msg) { return eq_.inc_asinvoke(s, msg); });
  }
  void exec(const ops::Send& op) {
    Msg m;
    pass(op, scratch_, m, [&](int s, Msg* msg) { return eq_.inc_send(s, msg); });
  }
  void exec(const ops::Dgram& op) {
    Msg m;
    pass(op, scratch_, m, [&](int s, Msg* msg) { return eq_.inc_dgram(s, msg); });
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
    set(op.status, rc);
    if (rc >= 1 && !op.as.empty() && r.msg.m_ref.rd_type != RefType::None) refs_[op.as] = r.msg.m_ref.rd_obj;
  }
  void exec(const ops::Reply& op) {
    auto& r = msgs_[op.msg];
    Msg m;
    fill(m, op.head, op.bytes, scratch_);
    if (r.handle > 1) eq_.inc_reply(r.handle, &m);
    r.handle = 0;
  }

  void exec(const ops::SsPut& op) {
    RefDescrip d = descriptor(op.ref);
    eq_.ss_put(op.label, &d, static_cast<int>(op.copies.n));
  }
  void exec(const ops::SsGet& op) {
    RefDescrip d;
    if (eq_.ss_get(op.label, &d) == E_OK) refs_[op.as] = d.rd_obj;
  }
  void exec(const ops::Register& op) { eq_.ns_register(op.service, ref(op.ref)); }
  void exec(const ops::Lookup& op) {
    int s = 0;
    int rc = eq_.ns_lookup(op.service, &s);
    if (rc == E_OK) refs_[op.as] = s;
    set(op.status, rc == E_OK ? 1 : 0);
  }
  void exec(const ops::ChanCreate& op) {
    int s = 0, p = 0;
    eq_.inc_chanCreate(op.type, &s, &p);
    refs_[op.stream] = s;
    refs_[op.port] = p;
  }

  void exec(const ops::EventWait& op) {
    EvDesc ev;
    int timeout = static_cast<int>(value(op.timeout_ms));
    std::vector<EvType> types;
    for (const auto& t : op.types.types) types.push_back(static_cast<EvType>(value(t)));
    int rc = eq_.inc_eventWait(&ev, timeout, types);
    set(op.status, rc);
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
    set(op.status, h > 0 ? E_OK : h);
  }

  void exec(const ops::AttachPort& op) {
    int detach = port_or_none(op.detach);
    std::string detail = fmt::format("port {} to the channel of {}", op.port, op.stream);
    if (!op.detach.empty()) detail += ", detaching " + op.detach;
    set(op.status, reconfigure("attach_port", detail, [&] {
          return eq_.inc_attachPort(ref(op.port), detach, ref(op.stream), op.move_queue ? 1 : 0);
        }));
  }
  void exec(const ops::RebindStream& op) {
    int port = port_or_none(op.port);
    std::string detail = fmt::format("stream {} to the channel of {}", op.handle, op.stream);
    if (!op.port.empty()) detail += ", forwarding from " + op.port;
    set(op.status, reconfigure("rebind_stream", detail,
                               [&] { return eq_.inc_rebindStream(ref(op.handle), ref(op.stream), port); }));
  }
  void exec(const ops::FreezeStream& op) {
    set(op.status, reconfigure("freeze_stream", "stream " + op.handle,
                               [&] { return eq_.inc_freezeStream(ref(op.handle)); }));
  }
  void exec(const ops::UnfreezeStream& op) {
    set(op.status, reconfigure("unfreeze_stream", "stream " + op.handle,
                               [&] { return eq_.inc_unfreezeStream(ref(op.handle)); }));
  }
  void exec(const ops::Migrate& op) {
    unsigned to = node(op.node);
    set(op.status, reconfigure("migrate", fmt::format("{} to node {}", op.incarnation, to),
                               [&] { return eq_.inc_migrate(ref(op.incarnation), to); }));
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
    set(op.status, rc);
  }
  void exec(const ops::Destroy& op) { set(op.status, eq_.inc_destroy(ref(op.incarnation))); }

  Equus& eq_;
  const OpHooks& hooks_;
  std::map<std::string, int64_t> vars_;
  std::map<std::string, int> refs_;
  std::map<std::string, Received> msgs_;
  std::vector<std::byte> scratch_;
  std::map<int, std::vector<std::byte>> asinvoke_buffers_;  // stays valid until the receiver takes it
  bool stop_ = false;
};

}  // namespace

Program op_program(std::shared_ptr<const ops::Block> ops, OpHooks hooks) {
  return [ops = std::move(ops), hooks = std::move(hooks)](Equus& eq) {
    try {
      Interpreter(eq, hooks).run(*ops);
    } catch (const ops::OpError& e) {  // a computed value out of range: the program stops there
      if (!hooks.error) throw;
      hooks.error(e.pointer(), e.message());
    }
  };
}

}  // namespace equus::programs
