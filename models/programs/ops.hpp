// The scenario op language (docs/scenarios.md) as typed data. Each op is a struct that gives its JSON
// name and its fields (key, member, required or not); parse_ops reads and validates JSON into these
// structs from that one description, and op_program interprets them with one handler per op. Adding
// an op: its struct here, in `Any`, and its handler in op_program.cpp (a missing one does not compile).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/kernel/service_protocol.hpp"
#include "models/kernel/types.hpp"

namespace equus::programs::ops {

/// A bad op program: `pointer` is the JSON pointer of the bad field from the op array's root ("" for
/// the array itself), `message` says what is wrong with it.
class OpError : public std::runtime_error {
 public:
  OpError(std::string pointer, std::string message)
      : std::runtime_error(pointer + ": " + message),
        pointer_(std::move(pointer)),
        message_(std::move(message)) {}
  const std::string& pointer() const { return pointer_; }
  const std::string& message() const { return message_; }

 private:
  std::string pointer_, message_;
};

// ---- Values, computed when the op runs ----

/// A variable: read in a value ("$name"), written by an op's var, status, event or info field. Empty
/// for an optional field that is absent.
struct Var {
  std::string name;
};

struct Expr;
/// {"add" | "sub" | "mul" | "mod": [a, b]}; a modulo by 0 is 0. An overflow is an error naming `where`
/// (checked_arith.hpp).
struct Arith {
  enum Kind { Add, Sub, Mul, Mod } kind = Add;
  std::shared_ptr<const Expr> lhs, rhs;
  std::string where;  // its JSON pointer from the op array's root
};
/// {"arg": i}: the incarnation's data argument i, 0 if it has none.
struct Arg {
  std::size_t index = 0;
};
/// {"head": [msg, word]}: header word 0-7 of a received or replied-to message, 0 if none.
struct HeadWord {
  std::string msg;
  std::size_t word = 0;
};
/// {"now_ms": true}: the simulated time in ms.
struct NowMs {};

/// An integer, "$var" or an expression object.
struct Expr {
  std::variant<int64_t, Var, Arith, Arg, HeadWord, NowMs> v = int64_t{0};
};

/// A value with a range: a literal out of it is rejected when parsed, a computed one when the op runs
/// (checked_arith.hpp). `where`, its JSON pointer from the op array's root, is kept only if computed.
struct Bounded : Expr {
  int64_t min = 0, max = std::numeric_limits<int64_t>::max();
  std::string where;
};
/// A duration in ms (compute, sleep), >= 0.
struct Duration : Bounded {};
/// A loop's count, >= 0.
struct Count : Bounded {};
/// A timeout in ms, >= 0, or -1 for none (the default).
struct Timeout : Bounded {
  Timeout() {
    v = int64_t{-1};
    min = -1;
  }
};
/// A message's data size in bytes, 0 to Limits::max_bytes.
struct Bytes : Bounded {};

/// {"lt" | "le" | "eq" | "ne" | "gt" | "ge": [a, b]}.
struct Cond {
  enum Kind { Lt, Le, Eq, Ne, Gt, Ge } kind = Eq;
  Expr lhs, rhs;
};

/// A node by name or hexadecimal kernel id (a string not starting with '$'), or a pool index (a value).
struct NodeRef {
  std::variant<std::string, Expr> v;
};

/// A message's header words (at most 8).
struct Head {
  std::vector<Expr> words;
};

/// The event types an event_wait takes: values, or names of kernel::ev_type_names.
struct EventTypes {
  std::vector<Expr> types;
};

/// ss_put's copies: an integer >= 1, or unlimited when absent.
struct Copies {
  int64_t n = kernel::SS_UNLIMITED;
};

/// A create's interfaces (Figure 5.2), unique by name.
struct Interfaces {
  std::vector<kernel::IncInterface> list;
};

// ---- Ops ----

/// A field of op struct `O`: its JSON key, the member it fills (of `O` or a base) and whether it is
/// required. Optional members keep their initialiser (an empty name or Var: absent) when missing.
template <class C, class M>
struct Field {
  const char* key;
  M C::*member;
  bool required;
};
template <class C, class M>
constexpr Field<C, M> req(const char* key, M C::*member) {
  return {key, member, true};
}
template <class C, class M>
constexpr Field<C, M> opt(const char* key, M C::*member) {
  return {key, member, false};
}

struct Op;
using Block = std::vector<Op>;

// Names (std::string) are the program's names for references and received messages, stream-space
// labels, service names, record keys and module names. Fields are listed required first: the order
// in which they are validated.

struct Set {
  static constexpr std::string_view name = "set";
  Var var;
  Expr value;
  static constexpr auto fields() { return std::tuple{req("var", &Set::var), req("value", &Set::value)}; }
};
struct Loop {
  static constexpr std::string_view name = "loop";
  Count count;
  Block body;
  Var var;  // the iteration, from 0
  static constexpr auto fields() {
    return std::tuple{req("count", &Loop::count), req("body", &Loop::body), opt("var", &Loop::var)};
  }
};
struct While {
  static constexpr std::string_view name = "while";
  Cond cond;
  Block body;
  static constexpr auto fields() { return std::tuple{req("cond", &While::cond), req("body", &While::body)}; }
};
struct If {
  static constexpr std::string_view name = "if";
  Cond cond;
  Block then, otherwise;
  static constexpr auto fields() {
    return std::tuple{req("cond", &If::cond), req("then", &If::then), opt("else", &If::otherwise)};
  }
};
struct Compute {
  static constexpr std::string_view name = "compute";
  Duration ms;
  static constexpr auto fields() { return std::tuple{req("ms", &Compute::ms)}; }
};
struct Sleep {
  static constexpr std::string_view name = "sleep";
  Duration ms;
  static constexpr auto fields() { return std::tuple{req("ms", &Sleep::ms)}; }
};

/// What the four message-passing ops send over `stream`: header words, `bytes` of data and a
/// reference (`ref`, kept by the sender unless `keep` is false; a port propagates, Section 6.2.1).
/// `status`: the call's Equus status (e.g. E_TIMEOUT when nobody answered).
struct Message {
  std::string stream;
  Head head;
  Bytes bytes;
  std::string ref;
  bool keep = true;
  bool keep_queuing = false;
  Var status;
};
/// Message's fields, first in the fields of the ops made of one.
template <class O>
constexpr auto message_fields() {
  return std::tuple{req("stream", &O::stream), opt("head", &O::head), opt("bytes", &O::bytes),
                    opt("ref", &O::ref),       opt("keep", &O::keep), opt("keep_queuing", &O::keep_queuing),
                    opt("status", &O::status)};
}
/// inc_invoke; the reply's header goes to `msg` (none when the call failed), a reference it carries
/// is bound to `as`.
struct Invoke : Message {
  static constexpr std::string_view name = "invoke";
  std::string msg, as;
  static constexpr auto fields() {
    return std::tuple_cat(message_fields<Invoke>(),
                          std::tuple{opt("msg", &Invoke::msg), opt("as", &Invoke::as)});
  }
};
struct Asinvoke : Message {
  static constexpr std::string_view name = "asinvoke";
  static constexpr auto fields() { return message_fields<Asinvoke>(); }
};
struct Send : Message {
  static constexpr std::string_view name = "send";
  static constexpr auto fields() { return message_fields<Send>(); }
};
struct Dgram : Message {
  static constexpr std::string_view name = "dgram";
  static constexpr auto fields() { return message_fields<Dgram>(); }
};

/// inc_receive into `msg`; status 0 none, 1 a message, >1 a reply handle.
struct Receive {
  static constexpr std::string_view name = "receive";
  std::string port, msg;
  bool block_invoker = false;
  Timeout timeout_ms;
  Var status;
  std::string as;
  static constexpr auto fields() {
    return std::tuple{req("port", &Receive::port),
                      req("msg", &Receive::msg),
                      opt("block_invoker", &Receive::block_invoker),
                      opt("timeout_ms", &Receive::timeout_ms),
                      opt("status", &Receive::status),
                      opt("as", &Receive::as)};
  }
};
/// inc_reply to the invocation last received into `msg`, if it awaits one.
struct Reply {
  static constexpr std::string_view name = "reply";
  std::string msg;
  Head head;
  Bytes bytes;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("msg", &Reply::msg), opt("head", &Reply::head), opt("bytes", &Reply::bytes),
                      opt("status", &Reply::status)};
  }
};
struct SsPut {
  static constexpr std::string_view name = "ss_put";
  std::string label, ref;
  Copies copies;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("label", &SsPut::label), req("ref", &SsPut::ref), opt("copies", &SsPut::copies),
                      opt("status", &SsPut::status)};
  }
};
struct SsGet {
  static constexpr std::string_view name = "ss_get";
  std::string label, as;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("label", &SsGet::label), req("as", &SsGet::as), opt("status", &SsGet::status)};
  }
};
struct Register {
  static constexpr std::string_view name = "register";
  std::string service, ref;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("service", &Register::service), req("ref", &Register::ref),
                      opt("status", &Register::status)};
  }
};
/// ns_lookup; status 1 found, 0 not.
struct Lookup {
  static constexpr std::string_view name = "lookup";
  std::string service, as;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("service", &Lookup::service), req("as", &Lookup::as),
                      opt("status", &Lookup::status)};
  }
};
struct ChanCreate {
  static constexpr std::string_view name = "chan_create";
  kernel::ChanType type = kernel::ChanType::Unicast;
  std::string stream, port;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("type", &ChanCreate::type), req("stream", &ChanCreate::stream),
                      req("port", &ChanCreate::port), opt("status", &ChanCreate::status)};
  }
};
struct Record {
  static constexpr std::string_view name = "record";
  std::string key;
  Expr value;
  static constexpr auto fields() {
    return std::tuple{req("key", &Record::key), req("value", &Record::value)};
  }
};
/// inc_eventWait; status 1 an event, 0 timeout; `event` its type, `info` its ed_info2.
struct EventWait {
  static constexpr std::string_view name = "event_wait";
  Timeout timeout_ms;
  EventTypes types;  // none: any
  Var status, event, info;
  static constexpr auto fields() {
    return std::tuple{opt("timeout_ms", &EventWait::timeout_ms), opt("types", &EventWait::types),
                      opt("status", &EventWait::status), opt("event", &EventWait::event),
                      opt("info", &EventWait::info)};
  }
};
struct Exit {
  static constexpr std::string_view name = "exit";
  static constexpr auto fields() { return std::tuple{}; }
};
struct RdcExit {
  static constexpr std::string_view name = "rdc_exit";
  static constexpr auto fields() { return std::tuple{}; }
};
struct HanCreate {
  static constexpr std::string_view name = "han_create";
  std::string ref, as;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("ref", &HanCreate::ref), req("as", &HanCreate::as),
                      opt("status", &HanCreate::status)};
  }
};

// The reconfiguring calls (Chapter 6); status: their Equus status.

struct AttachPort {
  static constexpr std::string_view name = "attach_port";
  std::string port, stream, detach;
  bool move_queue = true;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("port", &AttachPort::port), req("stream", &AttachPort::stream),
                      opt("detach", &AttachPort::detach), opt("move_queue", &AttachPort::move_queue),
                      opt("status", &AttachPort::status)};
  }
};
struct RebindStream {
  static constexpr std::string_view name = "rebind_stream";
  std::string handle, stream, port;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("handle", &RebindStream::handle), req("stream", &RebindStream::stream),
                      opt("port", &RebindStream::port), opt("status", &RebindStream::status)};
  }
};
struct FreezeStream {
  static constexpr std::string_view name = "freeze_stream";
  std::string handle;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("handle", &FreezeStream::handle), opt("status", &FreezeStream::status)};
  }
};
struct UnfreezeStream {
  static constexpr std::string_view name = "unfreeze_stream";
  std::string handle;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("handle", &UnfreezeStream::handle), opt("status", &UnfreezeStream::status)};
  }
};
struct Migrate {
  static constexpr std::string_view name = "migrate";
  std::string incarnation;
  NodeRef node;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("incarnation", &Migrate::incarnation), req("node", &Migrate::node),
                      opt("status", &Migrate::status)};
  }
};
/// inc_create of `module` on `node`; its handle is bound to `as`, its stream to `stream`.
struct Create {
  static constexpr std::string_view name = "create";
  std::string module;
  NodeRef node;
  std::string as;
  std::vector<Expr> args;
  Interfaces interfaces;
  std::string stream;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("module", &Create::module),
                      req("node", &Create::node),
                      req("as", &Create::as),
                      opt("args", &Create::args),
                      opt("interfaces", &Create::interfaces),
                      opt("stream", &Create::stream),
                      opt("status", &Create::status)};
  }
};
struct Destroy {
  static constexpr std::string_view name = "destroy";
  std::string incarnation;
  Var status;
  static constexpr auto fields() {
    return std::tuple{req("incarnation", &Destroy::incarnation), opt("status", &Destroy::status)};
  }
};

using Any =
    std::variant<Set, Loop, While, If, Compute, Sleep, Invoke, Asinvoke, Send, Dgram, Receive, Reply, SsPut,
                 SsGet, Register, Lookup, ChanCreate, Record, EventWait, Exit, RdcExit, HanCreate, AttachPort,
                 RebindStream, FreezeStream, UnfreezeStream, Migrate, Create, Destroy>;

struct Op {
  Any v;
};

/// What one op array may hold (a scenario's come from sim/scenario/limits.json; `source` names that
/// file in errors). Nesting deeper than `max_depth` JSON levels below the array is rejected before any
/// recursion could exhaust the stack.
struct Limits {
  std::size_t max_depth = 0;
  std::size_t max_ops = 0;  // ops in the array, nested ones included
  int64_t max_bytes = 0;    // a message's data
  std::string source;
};

/// Parses and validates an op array; throws OpError naming the first bad field.
Block parse_ops(const nlohmann::json& j, const Limits& limits);
/// The same without limits of its own (programs built in code; the JSON's depth is then the caller's
/// concern).
Block parse_ops(const nlohmann::json& j);

/// Calls `fn(op, pointer)` for every op of `ops`, nested ones included (parents first), with the
/// pointer of each from the root of `ops` prefixed by `at`.
void for_each_op(const Block& ops, const std::function<void(const Op&, const std::string&)>& fn,
                 const std::string& at = "");

}  // namespace equus::programs::ops
