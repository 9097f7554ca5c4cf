#include "models/platform/pool_files.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace equus::platform {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(item);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw PoolFileError(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class F>
void for_each_line(const std::string& text, F f) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    f(line, n);
  }
}

}  // namespace

std::vector<NodeDescriptor> parse_node_descriptors(const std::string& text, const std::string& file) {
  std::vector<NodeDescriptor> nodes;
  std::set<unsigned> ids;
  std::set<std::string> names;
  for_each_line(text, [&](const std::string& line, int n) {
    auto where = file + ":" + std::to_string(n);
    auto fields = split(line, ':');
    if (fields.size() != 5)
      throw PoolFileError(where +
                          ": expected 5 ':'-separated fields (id:name:groups:type:characteristics), got " +
                          std::to_string(fields.size()));
    NodeDescriptor d;
    std::size_t pos = 0;
    try {
      d.kernel_id = static_cast<unsigned>(std::stoul(fields[0], &pos, 16));
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos == 0 || pos != fields[0].size())
      throw PoolFileError(where + ": kernel id '" + fields[0] + "' is not hexadecimal");
    d.name = fields[1];
    if (d.name.empty()) throw PoolFileError(where + ": empty node name");
    for (auto& g : split(fields[2], ','))
      if (!g.empty()) d.groups.push_back(g);
    d.type = fields[3];
    for (auto& c : split(fields[4], ',')) {
      if (c.empty()) continue;
      d.characteristics.push_back(c);
      if (c.size() > 2 && c.substr(c.size() - 2) == "mb") {
        try {
          d.memory_bytes = std::stod(c.substr(0, c.size() - 2)) * 1024 * 1024;
        } catch (const std::exception&) {
          throw PoolFileError(where + ": bad memory size '" + c + "'");
        }
      }
    }
    if (!ids.insert(d.kernel_id).second) throw PoolFileError(where + ": duplicate kernel id " + fields[0]);
    if (!names.insert(d.name).second) throw PoolFileError(where + ": duplicate node name " + d.name);
    nodes.push_back(std::move(d));
  });
  if (nodes.empty()) throw PoolFileError(file + ": no nodes");
  return nodes;
}

std::vector<NodeDescriptor> load_node_descriptors(const std::string& path) {
  return parse_node_descriptors(read_file(path), path);
}

std::optional<unsigned> parse_kernel_id(const std::string& text) {
  std::string hex = text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0 ? text.substr(2) : text;
  auto digits = hex.find_first_not_of('0');  // leading zeros do not count against the 8 digits
  if (hex.empty() || hex.size() - std::min(digits, hex.size()) > 8 ||
      !std::all_of(hex.begin(), hex.end(),
                   [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); }))
    return std::nullopt;
  return static_cast<unsigned>(std::stoull(hex, nullptr, 16));
}

int find_node(const std::vector<NodeDescriptor>& nodes, const std::string& name_or_id) {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name_or_id) return static_cast<int>(i);
  auto id = parse_kernel_id(name_or_id);
  for (std::size_t i = 0; id && i < nodes.size(); ++i)
    if (nodes[i].kernel_id == *id) return static_cast<int>(i);
  return -1;
}

std::vector<PoolUser> parse_pool_users(const std::string& text, const std::string& file) {
  std::vector<PoolUser> users;
  for_each_line(text, [&](const std::string& line, int n) {
    auto fields = split(line, ':');
    if (fields.size() != 2 || fields[0].empty())
      throw PoolFileError(file + ":" + std::to_string(n) + ": expected 'user:group,group,...'");
    PoolUser u{fields[0], {}};
    for (auto& g : split(fields[1], ','))
      if (!g.empty()) u.groups.push_back(g);
    users.push_back(std::move(u));
  });
  return users;
}

std::vector<PoolUser> load_pool_users(const std::string& path) {
  return parse_pool_users(read_file(path), path);
}

}  // namespace equus::platform
