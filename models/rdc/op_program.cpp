#include "models/rdc/op_program.hpp"

#include <map>
#include <stdexcept>

#include "models/kernel/equus.hpp"
#include "models/kernel/incarnation.hpp"
#include "models/rdc/services.hpp"

using nlohmann::json;
using namespace equus::kernel;

namespace equus::rdc {

namespace {

std::map<std::string, std::function<Program()>>& registry() {
  static std::map<std::string, std::function<Program()>> r;
  return r;
}

/// One running op program: its variables, named references and received messages.
class Interpreter {
 public:
  Interpreter(Equus& eq) : eq_(eq) {
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

  int ref(const json& op, const char* key) {
    auto it = refs_.find(op.at(key).get<std::string>());
    return it == refs_.end() ? 0 : it->second;
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
      m.m_ref.rd_type = RefType::Stream;
      m.m_ref.rd_obj = ref(op, "ref");
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
      if (name == "invoke") {
        eq_.inc_invoke(s, &m);
        if (op.contains("msg")) msgs_[op["msg"].get<std::string>()].msg.m_head = m.m_head;
      } else if (name == "asinvoke")
        eq_.inc_asinvoke(s, &m);
      else if (name == "send")
        eq_.inc_send(s, &m);
      else
        eq_.inc_dgram(s, &m);
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
    } else if (name == "reply") {
      auto& r = msgs_[op["msg"].get<std::string>()];
      Msg m;
      fill(m, op, scratch_);
      if (r.handle > 1) eq_.inc_reply(r.handle, &m);
      r.handle = 0;
    } else if (name == "ss_put") {
      RefDescrip d;
      d.rd_type = RefType::Stream;
      d.rd_obj = ref(op, "ref");
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
      int rc = eq_.inc_eventWait(&ev, timeout);
      if (op.contains("status")) vars_[op["status"].get<std::string>()] = rc;
    } else if (name == "record") {
      eq_.record(op["key"].get<std::string>(), static_cast<double>(value(op["value"])));
    } else if (name == "exit") {
      stop_ = true;
    } else if (name == "rdc_exit") {
      stop_ = true;
      eq_.inc_rdcExit();
    }
  }

  Equus& eq_;
  std::map<std::string, int64_t> vars_;
  std::map<std::string, int> refs_;
  std::map<std::string, Received> msgs_;
  std::vector<std::byte> scratch_;
  std::map<int, std::vector<std::byte>> asinvoke_buffers_;  // stays valid until the receiver takes it
  bool stop_ = false;
};

}  // namespace

Program op_program(const json& ops) {
  return [ops](Equus& eq) { Interpreter(eq).run(ops); };
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

}  // namespace equus::rdc
