#include "models/programs/op_program.hpp"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

#include "models/kernel/equus.hpp"
#include "models/kernel/incarnation.hpp"
#include "models/services/services.hpp"

using nlohmann::json;
using namespace equus::kernel;

namespace equus::programs {

namespace {

std::map<std::string, std::function<Program()>>& registry() {
  static std::map<std::string, std::function<Program()>> r;
  return r;
}

/// One running op program: its variables, named references and received messages.
class Interpreter {
 public:
  Interpreter(Equus& eq, const OpHooks& hooks) : eq_(eq), hooks_(hooks) {
    for (const auto& f : eq.params().ifaces)
      if (!f.name.empty()) refs_[f.name] = f.ref;
  }

  void run(const json& ops) {
    for (const auto& op : ops) {
      if (stop_) return;
      exec(op);
    }
  }

 private:
  struct Received {
    Msg msg;
    int handle = 0;
    std::vector<std::byte> data;
  };

  int64_t value(const json& v) {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number()) return static_cast<int64_t>(v.get<double>());
    if (v.is_string()) {
      auto s = v.get<std::string>();
      return s.size() > 1 && s[0] == '$' ? vars_[s.substr(1)] : 0;
    }
    if (v.is_object() && !v.empty()) {
      auto it = v.begin();  // one key: the operator
      const std::string& k = it.key();
      const json& a = it.value();
      if (k == "add") return value(a[0]) + value(a[1]);
      if (k == "sub") return value(a[0]) - value(a[1]);
      if (k == "mul") return value(a[0]) * value(a[1]);
      if (k == "mod") {
        int64_t d = value(a[1]);
        return d ? value(a[0]) % d : 0;
      }
      if (k == "arg") {
        auto i = static_cast<std::size_t>(value(a));
        const auto& args = eq_.params().args;
        return i < args.size() ? args[i] : 0;
      }
      if (k == "head") {
        auto it = msgs_.find(a[0].get<std::string>());
        auto i = static_cast<std::size_t>(value(a[1]));
        return it == msgs_.end() || i > 7 ? 0 : it->second.msg.get<uint32_t>(4 * i);
      }
      if (k == "now_ms") return static_cast<int64_t>(eq_.now() * 1000);
    }
    return 0;
  }

  bool cond(const json& c) {
    auto it = c.begin();
    const std::string& k = it.key();
    const json& a = it.value();
    int64_t x = value(a[0]), y = value(a[1]);
    if (k == "lt") return x < y;
    if (k == "le") return x <= y;
    if (k == "eq") return x == y;
    if (k == "ne") return x != y;
    if (k == "gt") return x > y;
    return x >= y;  // "ge"
  }

  /// The reference a name is bound to; -1 (never a reference, unlike NO_PORT) for an unbound name.
  int ref(const json& op, const char* key) {
    auto it = refs_.find(op.at(key).get<std::string>());
    return it == refs_.end() ? -1 : it->second;
  }

  void bind(const json& op, const char* key, int reference) {
    refs_[op.at(key).get<std::string>()] = reference;
  }

  void status(const json& op, int64_t v) {
    if (op.contains("status")) vars_[op["status"].get<std::string>()] = v;
  }

  /// A node named by name or hexadecimal id, or a pool index.
  unsigned node(const json& v) {
    if (v.is_string() && !v.get<std::string>().empty() && v.get<std::string>()[0] != '$')
      return static_cast<unsigned>(hooks_.node_index ? hooks_.node_index(v.get<std::string>()) : -1);
    return static_cast<unsigned>(value(v));
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

  static IncInterface interface(const json& f) {
    IncInterface i;
    i.name = f["name"].get<std::string>();
    i.kind = f["kind"] == "port" ? IncInterface::Kind::Port : IncInterface::Kind::Stream;
    i.chan_new = i.kind == IncInterface::Kind::Port && f.value("chan", std::string("new")) == "new";
    i.type = f.value("type", std::string("unicast")) == "multicast" ? ChanType::Multicast : ChanType::Unicast;
    i.chan_label = f["label"].get<std::string>();
    i.handle_label = f.value("handle", std::string());
    return i;
  }

  /// The reference descriptor for the reference named by `key`, of its actual type.
  RefDescrip descriptor(const json& op, const char* key) {
    RefDescrip d;
    d.rd_obj = ref(op, key);
    int type = eq_.inc_testReference(d.rd_obj);
    d.rd_type = type == RT_NONE ? RefType::Stream : static_cast<RefType>(type);
    return d;
  }

  void fill(Msg& m, const json& op, std::vector<std::byte>& buf) {
    if (op.contains("head"))
      for (std::size_t i = 0; i < op["head"].size() && i < 8; ++i)
        m.put<uint32_t>(4 * i, static_cast<uint32_t>(value(op["head"][i])));
    auto bytes = op.contains("bytes") ? static_cast<uint32_t>(value(op["bytes"])) : 0u;
    buf.assign(bytes, std::byte{0});
    m.m_base = bytes ? buf.data() : nullptr;
    m.m_cnt = bytes;
    if (op.contains("ref")) {
      m.m_ref = descriptor(op, "ref");
      m.m_ref.rd_keep = op.value("keep", true);
      if (op.value("keep_queuing", false)) m.m_ref.rd_flags |= RD_KEEP_QUEUING;
    }
  }

  void exec(const json& op) {
    const std::string name = op.at("op").get<std::string>();
    if (name == "set") {
      vars_[op["var"].get<std::string>()] = value(op["value"]);
    } else if (name == "loop") {
      int64_t n = value(op["count"]);
      for (int64_t i = 0; i < n && !stop_; ++i) {
        if (op.contains("var")) vars_[op["var"].get<std::string>()] = i;
        run(op["body"]);
      }
    } else if (name == "while") {
      while (!stop_ && cond(op["cond"])) run(op["body"]);
    } else if (name == "if") {
      if (cond(op["cond"]))
        run(op["then"]);
      else if (op.contains("else"))
        run(op["else"]);
    } else if (name == "compute") {
      eq_.compute(static_cast<double>(value(op["ms"])) / 1000.0);
    } else if (name == "sleep") {
      eq_.inc_sleep(static_cast<int>(value(op["ms"])));
    } else if (name == "invoke" || name == "asinvoke" || name == "send" || name == "dgram") {
      Msg m;
      std::vector<std::byte>& buf = name == "asinvoke" ? asinvoke_buffers_[ref(op, "stream")] : scratch_;
      fill(m, op, buf);
      int s = ref(op, "stream");
      auto call = [&] {
        if (name == "invoke") return eq_.inc_invoke(s, &m);
        if (name == "asinvoke") return eq_.inc_asinvoke(s, &m);
        if (name == "send") return eq_.inc_send(s, &m);
        return eq_.inc_dgram(s, &m);
      };
      if (m.m_ref.rd_type == RefType::Port)  // port propagation (Section 6.2.1)
        reconfigure("propagate_port",
                    fmt::format("port {} over {}{}", op["ref"].get<std::string>(),
                                op["stream"].get<std::string>(), m.m_ref.rd_keep ? " (kept)" : ""),
                    call);
      else
        call();
      if (op.contains("ref") && !op.value("keep", true)) refs_.erase(op["ref"].get<std::string>());
      if (name == "invoke") {
        if (op.contains("msg")) msgs_[op["msg"].get<std::string>()].msg.m_head = m.m_head;
        if (op.contains("as") && m.m_ref.rd_type != RefType::None) bind(op, "as", m.m_ref.rd_obj);
      }
    } else if (name == "receive") {
      auto& r = msgs_[op["msg"].get<std::string>()];
      r.data.resize(64 * 1024);
      r.msg = Msg{};
      r.msg.m_base = r.data.data();
      r.msg.m_cnt = static_cast<uint32_t>(r.data.size());
      bool block = op.value("block_invoker", false);
      int timeout = op.contains("timeout_ms") ? static_cast<int>(value(op["timeout_ms"])) : -1;
      int rc = eq_.inc_receive(ref(op, "port"), &r.msg, block ? 1 : 0, 0, timeout);
      r.handle = rc > 1 ? rc : 0;
      if (op.contains("status")) vars_[op["status"].get<std::string>()] = rc;
      if (rc >= 1 && op.contains("as") && r.msg.m_ref.rd_type != RefType::None)
        bind(op, "as", r.msg.m_ref.rd_obj);
    } else if (name == "reply") {
      auto& r = msgs_[op["msg"].get<std::string>()];
      Msg m;
      fill(m, op, scratch_);
      if (r.handle > 1) eq_.inc_reply(r.handle, &m);
      r.handle = 0;
    } else if (name == "ss_put") {
      RefDescrip d = descriptor(op, "ref");
      eq_.ss_put(op["label"].get<std::string>(), &d,
                 op.contains("copies") ? static_cast<int>(value(op["copies"])) : SS_UNLIMITED);
    } else if (name == "ss_get") {
      RefDescrip d;
      if (eq_.ss_get(op["label"].get<std::string>(), &d) == E_OK)
        refs_[op["as"].get<std::string>()] = d.rd_obj;
    } else if (name == "register") {
      eq_.ns_register(op["service"].get<std::string>(), ref(op, "ref"));
    } else if (name == "lookup") {
      int s = 0;
      int rc = eq_.ns_lookup(op["service"].get<std::string>(), &s);
      if (rc == E_OK) refs_[op["as"].get<std::string>()] = s;
      if (op.contains("status")) vars_[op["status"].get<std::string>()] = rc == E_OK ? 1 : 0;
    } else if (name == "chan_create") {
      int s = 0, p = 0;
      eq_.inc_chanCreate(op["type"] == "multicast" ? ChanType::Multicast : ChanType::Unicast, &s, &p);
      refs_[op["stream"].get<std::string>()] = s;
      refs_[op["port"].get<std::string>()] = p;
    } else if (name == "event_wait") {
      EvDesc ev;
      int timeout = op.contains("timeout_ms") ? static_cast<int>(value(op["timeout_ms"])) : -1;
      std::vector<EvType> types;
      for (const auto& t : op.value("types", json::array())) types.push_back(static_cast<EvType>(value(t)));
      int rc = eq_.inc_eventWait(&ev, timeout, types);
      if (op.contains("status")) vars_[op["status"].get<std::string>()] = rc;
      if (op.contains("event"))
        vars_[op["event"].get<std::string>()] = rc == 1 ? static_cast<int64_t>(ev.ed_evtype) : 0;
      if (op.contains("info")) vars_[op["info"].get<std::string>()] = rc == 1 ? ev.ed_info2 : 0;
    } else if (name == "record") {
      eq_.record(op["key"].get<std::string>(), static_cast<double>(value(op["value"])));
    } else if (name == "exit") {
      stop_ = true;
    } else if (name == "rdc_exit") {
      stop_ = true;
      eq_.inc_rdcExit();
    } else if (name == "han_create") {
      int h = eq_.inc_hanCreate(ref(op, "ref"));
      if (h > 0) bind(op, "as", h);
      status(op, h > 0 ? E_OK : h);
    } else if (name == "attach_port") {
      int detach = op.contains("detach") ? ref(op, "detach") : NO_PORT;
      std::string detail = fmt::format("port {} to the channel of {}", op["port"].get<std::string>(),
                                       op["stream"].get<std::string>());
      if (op.contains("detach")) detail += ", detaching " + op["detach"].get<std::string>();
      status(op, reconfigure("attach_port", detail, [&] {
               return eq_.inc_attachPort(ref(op, "port"), detach, ref(op, "stream"),
                                         op.value("move_queue", true) ? 1 : 0);
             }));
    } else if (name == "rebind_stream") {
      int port = op.contains("port") ? ref(op, "port") : NO_PORT;
      std::string detail = fmt::format("stream {} to the channel of {}", op["handle"].get<std::string>(),
                                       op["stream"].get<std::string>());
      if (op.contains("port")) detail += ", forwarding from " + op["port"].get<std::string>();
      status(op, reconfigure("rebind_stream", detail, [&] {
               return eq_.inc_rebindStream(ref(op, "handle"), ref(op, "stream"), port);
             }));
    } else if (name == "freeze_stream" || name == "unfreeze_stream") {
      bool freeze = name == "freeze_stream";
      status(op, reconfigure(freeze ? "freeze_stream" : "unfreeze_stream",
                             "stream " + op["handle"].get<std::string>(), [&] {
                               int h = ref(op, "handle");
                               return freeze ? eq_.inc_freezeStream(h) : eq_.inc_unfreezeStream(h);
                             }));
    } else if (name == "migrate") {
      unsigned to = node(op["node"]);
      status(op,
             reconfigure("migrate", fmt::format("{} to node {}", op["incarnation"].get<std::string>(), to),
                         [&] { return eq_.inc_migrate(ref(op, "incarnation"), to); }));
    } else if (name == "create") {
      IncCreateParams cp;
      for (const auto& a : op.value("args", json::array())) cp.params.args.push_back(value(a));
      for (const auto& f : op.value("interfaces", json::array())) cp.params.ifaces.push_back(interface(f));
      int module = eq_.inc_moduleId(op["module"].get<std::string>());
      int h = 0, s = 0;
      int rc = module < 0 ? module : eq_.inc_create(module, node(op["node"]), &h, &s, &cp);
      if (rc == E_OK) {
        bind(op, "as", h);
        if (auto* child = eq_.incarnation().ref<IncRef>(h); child && hooks_.named)
          hooks_.named(child->inc, op["as"].get<std::string>());
        if (op.contains("stream")) bind(op, "stream", s);
      }
      status(op, rc);
    } else if (name == "destroy") {
      status(op, eq_.inc_destroy(ref(op, "incarnation")));
    }
  }

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

Program op_program(const json& ops, OpHooks hooks) {
  return [ops, hooks = std::move(hooks)](Equus& eq) { Interpreter(eq, hooks).run(ops); };
}

void register_program(const std::string& name, std::function<Program()> factory) {
  registry()[name] = std::move(factory);
}

Program find_program(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) throw std::runtime_error("no C++ program registered as '" + name + "'");
  return it->second();
}

std::vector<std::string> program_names() {
  std::vector<std::string> out;
  for (const auto& [k, v] : registry()) out.push_back(k);
  return out;
}

}  // namespace equus::programs
