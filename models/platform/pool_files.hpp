// The node descriptor file (Figure 3.3) and the pool users file (Figure 3.4).
#pragma once

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
/// Index of the node whose name or hexadecimal kernel id is `name_or_id`; -1 if none.
int find_node(const std::vector<NodeDescriptor>& nodes, const std::string& name_or_id);
std::vector<PoolUser> parse_pool_users(const std::string& text, const std::string& file);
std::vector<PoolUser> load_pool_users(const std::string& path);

}  // namespace equus::platform
