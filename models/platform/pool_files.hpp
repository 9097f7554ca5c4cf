// The node descriptor file (Figure 3.3) and the pool users file (Figure 3.4).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace equus::platform {

class PoolFileError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NodeDescriptor {
  unsigned kernel_id = 0;  // kernel-recognised name, hexadecimal in the file (0x201)
  std::string name;        // humanly recognisable name
  std::vector<std::string> groups;
  std::string type;  // jt68030
  std::vector<std::string> characteristics;
  double memory_bytes = 0;  // from an "<n>mb" characteristic, 0 if absent
};

struct PoolUser {
  std::string user;
  std::vector<std::string> groups;
};

/// Parses node descriptors; errors name "file:line".
std::vector<NodeDescriptor> parse_node_descriptors(const std::string& text, const std::string& file);
std::vector<NodeDescriptor> load_node_descriptors(const std::string& path);
/// A kernel id as written: 1-8 hexadecimal digits in either case, after an optional "0x" and any
/// leading zeros ("202", "0x202", "0202", "20A"); nothing if `text` is not one.
std::optional<unsigned> parse_kernel_id(const std::string& text);
/// Index of the node named `name_or_id`, else of the node whose kernel id it is (parse_kernel_id); -1
/// if none. The one resolver of node references: validation and the run both use it.
int find_node(const std::vector<NodeDescriptor>& nodes, const std::string& name_or_id);
std::vector<PoolUser> parse_pool_users(const std::string& text, const std::string& file);
std::vector<PoolUser> load_pool_users(const std::string& path);

}  // namespace equus::platform
