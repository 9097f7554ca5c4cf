// parse_ops: JSON to typed ops, validated from the ops' field lists (ops.hpp). A field is read by the
// parser of its C++ type; the first problem found throws an OpError with the field's JSON pointer.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "models/programs/ops.hpp"
#include "models/support/json_number.hpp"

using nlohmann::json;

namespace equus::programs::ops {

namespace {

using Keys = std::vector<std::string>;

// ---- JSON pointers (RFC 6901) and checks of JSON values ----

std::string at(const std::string& ptr, const std::string& key) {
  std::string out = ptr + "/";
  for (char ch : key)
    out += ch == '~' ? std::string("~0") : ch == '/' ? std::string("~1") : std::string(1, ch);
  return out;
}
std::string at(const std::string& ptr, std::size_t index) { return ptr + "/" + std::to_string(index); }

std::string join(const Keys& items, const std::string& sep, const std::string& quote) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + quote + items[i] + quote;
  return out;
}

[[noreturn]] void fail(const std::string& ptr, const std::string& msg) { throw OpError(ptr, msg); }

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
}

/// An object holding only `allowed` keys (first unknown key reported) and every `required` one.
void object(const json& j, const std::string& ptr, const Keys& allowed, const Keys& required = {}) {
  if (!j.is_object()) fail(ptr, "must be an object");
  for (const auto& [key, value] : j.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) fail(at(ptr, key), "unknown key");
  for (const auto& key : required)
    if (!j.contains(key)) fail(ptr, "missing required key '" + key + "'");
}

const json& array(const json& j, const std::string& ptr) {
  if (!j.is_array()) fail(ptr, "must be an array");
  return j;
}

std::string choice(const json& j, const std::string& ptr, const Keys& options) {
  if (j.is_string() && std::find(options.begin(), options.end(), j.get<std::string>()) != options.end())
    return j.get<std::string>();
  fail(ptr, "must be one of " + join(options, ", ", "'") +
                (j.is_string() ? " (got '" + j.get<std::string>() + "')" : ""));
}

/// A node given by name: a non-empty string not starting with '$' (which starts a variable).
bool is_node_name(const json& j) {
  return j.is_string() && !j.get<std::string>().empty() && j.get<std::string>()[0] != '$';
}

// ---- One parser per field type ----

void parse(const json& j, const std::string& ptr, Expr& out);
void parse(const json& j, const std::string& ptr, Block& out);

void parse(const json& j, const std::string& ptr, std::string& out) {
  if (!j.is_string() || j.get<std::string>().empty()) fail(ptr, "must be a non-empty string");
  out = j.get<std::string>();
}

void parse(const json& j, const std::string& ptr, Var& out) {
  if (!j.is_string() || !is_identifier(j.get<std::string>()))
    fail(ptr, "must be a variable name (letters, digits and '_', not starting with a digit)");
  out.name = j.get<std::string>();
}

void parse(const json& j, const std::string& ptr, bool& out) {
  if (!j.is_boolean()) fail(ptr, "must be a boolean");
  out = j.get<bool>();
}

void parse(const json& j, const std::string& ptr, kernel::ChanType& out) {
  out = choice(j, ptr, {"unicast", "multicast"}) == "multicast" ? kernel::ChanType::Multicast
                                                                : kernel::ChanType::Unicast;
}

void parse(const json& j, const std::string& ptr, Copies& out) {
  auto v = as_int64(j);
  if (!v || *v < 1) fail(ptr, "must be an integer >= 1");
  out.n = *v;
}

/// The two operands of an arithmetic operator or a comparison.
std::pair<Expr, Expr> operands(const json& j, const std::string& ptr) {
  if (!j.is_array() || j.size() != 2) fail(ptr, "must be an array of 2 values");
  std::pair<Expr, Expr> out;
  parse(j[0], at(ptr, 0), out.first);
  parse(j[1], at(ptr, 1), out.second);
  return out;
}

Expr expression(const std::string& key, const json& arg, const std::string& ptr) {
  static const std::map<std::string, Arith::Kind> arith = {
      {"add", Arith::Add}, {"sub", Arith::Sub}, {"mul", Arith::Mul}, {"mod", Arith::Mod}};
  if (key == "arg") {
    auto i = as_int64(arg);
    if (!i || *i < 0) fail(ptr, "must be an integer >= 0");
    return {Arg{static_cast<std::size_t>(*i)}};
  }
  if (key == "head") {
    if (!arg.is_array() || arg.size() != 2) fail(ptr, "must be [\"<msg>\", word 0-7]");
    HeadWord h;
    parse(arg[0], at(ptr, 0), h.msg);
    auto w = as_int64(arg[1]);
    if (!w || *w < 0 || *w > 7) fail(at(ptr, 1), "must be an integer 0-7");
    h.word = static_cast<std::size_t>(*w);
    return {std::move(h)};
  }
  if (key == "now_ms") {
    if (arg != json(true)) fail(ptr, "must be true");
    return {NowMs{}};
  }
  auto [lhs, rhs] = operands(arg, ptr);
  return {Arith{arith.at(key), std::make_shared<const Expr>(std::move(lhs)),
                std::make_shared<const Expr>(std::move(rhs))}};
}

void parse(const json& j, const std::string& ptr, Expr& out) {
  static const Keys exprs = {"add", "sub", "mul", "mod", "arg", "head", "now_ms"};
  if (auto v = as_int64(j)) {
    out.v = *v;
    return;
  }
  if (j.is_string()) {
    auto s = j.get<std::string>();
    if (s.size() < 2 || s[0] != '$' || !is_identifier(s.substr(1)))
      fail(ptr, "'" + s + "' is not a variable reference \"$name\"");
    out.v = Var{s.substr(1)};
    return;
  }
  if (!j.is_object()) fail(ptr, "must be an integer, \"$var\" or an expression object");
  object(j, ptr, exprs);
  if (j.size() != 1) fail(ptr, "must have exactly one of " + join(exprs, ", ", ""));
  // Not a structured binding of *j.items().begin(): that binds to a temporary iteration proxy whose
  // key() refers into it (a stack use after scope under ASan).
  auto it = j.begin();
  const std::string& key = it.key();
  out = expression(key, it.value(), at(ptr, key));
}

void parse(const json& j, const std::string& ptr, Cond& out) {
  static const Keys comparisons = {"lt", "le", "eq", "ne", "gt", "ge"};
  object(j, ptr, comparisons);
  if (j.size() != 1) fail(ptr, "must have exactly one of " + join(comparisons, ", ", ""));
  const auto& key = j.begin().key();
  out.kind =
      static_cast<Cond::Kind>(std::find(comparisons.begin(), comparisons.end(), key) - comparisons.begin());
  std::tie(out.lhs, out.rhs) = operands(j.begin().value(), at(ptr, key));
}

void parse(const json& j, const std::string& ptr, std::vector<Expr>& out) {
  std::size_t i = 0;
  for (const auto& item : array(j, ptr)) parse(item, at(ptr, i++), out.emplace_back());
}

void parse(const json& j, const std::string& ptr, Head& out) {
  if (!j.is_array() || j.size() > 8) fail(ptr, "must be an array of at most 8 values");
  parse(j, ptr, out.words);
}

void parse(const json& j, const std::string& ptr, NodeRef& out) {
  if (is_node_name(j))
    out.v = j.get<std::string>();  // checked against the pool by the scenario
  else
    parse(j, ptr, out.v.emplace<Expr>());
}

/// A value, or the name of an event type (kernel::ev_type_names).
void parse(const json& j, const std::string& ptr, EventTypes& out) {
  std::size_t i = 0;
  for (const auto& item : array(j, ptr)) {
    auto p = at(ptr, i++);
    if (!is_node_name(item)) {  // a value: $var, an integer or an expression
      parse(item, p, out.types.emplace_back());
      continue;
    }
    auto name = item.get<std::string>();
    const auto* end = std::end(kernel::ev_type_names);
    const auto* it =
        std::find_if(std::begin(kernel::ev_type_names), end, [&](const auto& t) { return name == t.name; });
    if (it == end) {
      Keys names;
      for (const auto& t : kernel::ev_type_names) names.push_back(t.name);
      fail(p, "unknown event type '" + name + "' (one of " + join(names, ", ", "'") + ", or a value)");
    }
    out.types.push_back({static_cast<int64_t>(it->type)});
  }
}

kernel::IncInterface interface(const json& j, const std::string& ptr) {
  object(j, ptr, {"name", "kind", "label", "chan", "type", "handle"}, {"name", "kind", "label"});
  kernel::IncInterface f;
  parse(j["name"], at(ptr, "name"), f.name);
  bool port = choice(j["kind"], at(ptr, "kind"), {"stream", "port"}) == "port";
  f.kind = port ? kernel::IncInterface::Kind::Port : kernel::IncInterface::Kind::Stream;
  parse(j["label"], at(ptr, "label"), f.chan_label);
  if (!port) {
    if (j.contains("chan")) fail(at(ptr, "chan"), "only ports have 'chan'");
    if (j.contains("type")) fail(at(ptr, "type"), "only ports have a 'type'");
  } else {
    f.chan_new = true;  // "other" joins a channel created elsewhere
    if (j.contains("chan")) f.chan_new = choice(j["chan"], at(ptr, "chan"), {"new", "other"}) == "new";
    if (j.contains("type")) {
      if (!f.chan_new) fail(at(ptr, "type"), "only ports with chan 'new' have a 'type'");
      parse(j["type"], at(ptr, "type"), f.type);
    }
  }
  if (j.contains("handle")) parse(j["handle"], at(ptr, "handle"), f.handle_label);
  return f;
}

void parse(const json& j, const std::string& ptr, Interfaces& out) {
  std::set<std::string> seen;
  std::size_t i = 0;
  for (const auto& item : array(j, ptr)) {
    auto p = at(ptr, i++);
    out.list.push_back(interface(item, p));
    if (!seen.insert(out.list.back().name).second)
      fail(at(p, "name"), "duplicate interface name '" + out.list.back().name + "'");
  }
}

// ---- Ops ----

/// An op of type O: its keys checked (unknown ones first, then missing ones), then its fields read in
/// the order O::fields() lists them.
template <class O>
Op parse_op(const json& j, const std::string& ptr) {
  constexpr auto fields = O::fields();
  Keys allowed = {"op"}, required;
  std::apply(
      [&](const auto&... f) {
        ((allowed.push_back(f.key), f.required ? required.push_back(f.key) : void()), ...);
      },
      fields);
  object(j, ptr, allowed, required);
  O op;
  std::apply(
      [&](const auto&... f) {
        ((j.contains(f.key) ? parse(j[f.key], at(ptr, f.key), op.*f.member) : void()), ...);
      },
      fields);
  return Op{std::move(op)};
}

using OpParser = Op (*)(const json&, const std::string&);

template <std::size_t... I>
std::map<std::string, OpParser, std::less<>> op_parsers(std::index_sequence<I...>) {
  return {{std::string(std::variant_alternative_t<I, Any>::name),
           &parse_op<std::variant_alternative_t<I, Any>>}...};
}

Op parse_one(const json& j, const std::string& ptr) {
  static const auto parsers = op_parsers(std::make_index_sequence<std::variant_size_v<Any>>());
  if (!j.is_object()) fail(ptr, "must be an object");
  auto o = j.find("op");
  if (o == j.end()) fail(ptr, "missing required key 'op'");
  if (!o->is_string()) fail(at(ptr, "op"), "must be a string");
  auto parser = parsers.find(o->get<std::string>());
  if (parser == parsers.end()) fail(at(ptr, "op"), "unknown op '" + o->get<std::string>() + "'");
  return parser->second(j, ptr);
}

void parse(const json& j, const std::string& ptr, Block& out) {
  std::size_t i = 0;
  for (const auto& item : array(j, ptr)) out.push_back(parse_one(item, at(ptr, i++)));
}

/// The ops of `op`'s field `f` if it is a block (a body, then or else).
template <class O, class C, class M>
void nested_ops(const O& op, const Field<C, M>& f, const std::string& ptr,
                const std::function<void(const Op&, const std::string&)>& fn) {
  if constexpr (std::is_same_v<M, Block>) for_each_op(op.*f.member, fn, at(ptr, f.key));
}

}  // namespace

Block parse_ops(const json& j) {
  Block out;
  parse(j, "", out);
  return out;
}

void for_each_op(const Block& ops, const std::function<void(const Op&, const std::string&)>& fn,
                 const std::string& ptr) {
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto p = at(ptr, i);
    fn(ops[i], p);
    std::visit(
        [&](const auto& op) {
          std::apply([&](const auto&... f) { (nested_ops(op, f, p, fn), ...); },
                     std::decay_t<decltype(op)>::fields());
        },
        ops[i].v);
  }
}

}  // namespace equus::programs::ops
