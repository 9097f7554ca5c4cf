// The node descriptor file (Figure 3.3) and the pool users file (Figure 3.4).
#include <gtest/gtest.h>

#include <string>

#include "models/params/params.hpp"
#include "models/platform/pool_files.hpp"

using namespace equus::platform;

namespace {

template <class F>
std::string pool_error(F fn) {
  try {
    fn();
  } catch (const PoolFileError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no PoolFileError thrown";
  return "";
}

const std::string good = "201:a:x:jt68030:4mb\n";

}  // namespace

TEST(PoolFiles, ShippedNodeDescriptorsParse) {
  auto nodes = load_node_descriptors(equus::params::data_dir() + "/scenarios/pool/kathleen.nodes");
  ASSERT_EQ(nodes.size(), 11u);
  const auto& n0 = nodes[0];
  EXPECT_EQ(n0.kernel_id, 0x201u);
  EXPECT_EQ(n0.name, "kathleen1");
  EXPECT_EQ(n0.groups, (std::vector<std::string>{"systems", "all"}));
  EXPECT_EQ(n0.type, "jt68030");
  EXPECT_DOUBLE_EQ(n0.memory_bytes, 4.0 * 1024 * 1024);
  EXPECT_EQ(nodes[10].kernel_id, 0x20bu);
  EXPECT_EQ(nodes[10].name, "kathleen11");
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(nodes[i].name, "kathleen" + std::to_string(i + 1));
    EXPECT_EQ(nodes[i].kernel_id, 0x201u + i);
  }
}

TEST(PoolFiles, ShippedUsersParse) {
  auto users = load_pool_users(equus::params::data_dir() + "/scenarios/pool/kathleen.users");
  ASSERT_EQ(users.size(), 5u);
  EXPECT_EQ(users[0].user, "tim");
  EXPECT_EQ(users[0].groups, (std::vector<std::string>{"systems", "timeshared"}));
  EXPECT_EQ(users[4].user, "equus");
  EXPECT_EQ(users[4].groups, std::vector<std::string>{"all"});
}

TEST(PoolFiles, CommentsAndBlankLinesAreSkipped) {
  auto nodes = parse_node_descriptors("# header\n\n  \n201:a:x,y::\n# more\n202:b:::8mb,fast\n", "t.nodes");
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].memory_bytes, 0);
  EXPECT_TRUE(nodes[0].characteristics.empty());
  EXPECT_EQ(nodes[1].memory_bytes, 8.0 * 1024 * 1024);
  EXPECT_EQ(nodes[1].characteristics, (std::vector<std::string>{"8mb", "fast"}));
}

TEST(PoolFiles, WrongFieldCountNamesFileAndLine) {
  auto msg = pool_error([] { parse_node_descriptors("# c\n" + good + "202:b:x:jt68030\n", "bad.nodes"); });
  EXPECT_NE(msg.find("bad.nodes:3"), std::string::npos) << msg;
  auto extra =
      pool_error([] { parse_node_descriptors(good + "202:b:x:jt:4mb\n203:c:x:jt:4mb:more\n", "bad.nodes"); });
  EXPECT_NE(extra.find("bad.nodes:3"), std::string::npos) << extra;
}

TEST(PoolFiles, BadHexIdNamesFileAndLine) {
  auto msg = pool_error([] { parse_node_descriptors(good + "\n2g2:b:x:jt68030:4mb\n", "hex.nodes"); });
  EXPECT_NE(msg.find("hex.nodes:3"), std::string::npos) << msg;
  auto empty = pool_error([] { parse_node_descriptors(":b:x:jt68030:4mb\n", "hex.nodes"); });
  EXPECT_NE(empty.find("hex.nodes:1"), std::string::npos) << empty;
}

TEST(PoolFiles, DuplicateIdNamesFileAndLine) {
  auto msg =
      pool_error([] { parse_node_descriptors(good + "202:b:x:jt:4mb\n201:c:x:jt:4mb\n", "dup.nodes"); });
  EXPECT_NE(msg.find("dup.nodes:3"), std::string::npos) << msg;
  auto name = pool_error([] { parse_node_descriptors(good + "202:a:x:jt:4mb\n", "dup.nodes"); });
  EXPECT_NE(name.find("dup.nodes:2"), std::string::npos) << name;
}

TEST(PoolFiles, OtherNodeErrors) {
  auto noname = pool_error([] { parse_node_descriptors("201::x:jt:4mb\n", "e.nodes"); });
  EXPECT_NE(noname.find("e.nodes:1"), std::string::npos) << noname;
  auto mem = pool_error([] { parse_node_descriptors("201:a:x:jt:lotsmb\n", "e.nodes"); });
  EXPECT_NE(mem.find("e.nodes:1"), std::string::npos) << mem;
  auto none = pool_error([] { parse_node_descriptors("# nothing\n", "e.nodes"); });
  EXPECT_NE(none.find("e.nodes"), std::string::npos) << none;
  auto absent = pool_error([] { load_node_descriptors("/nonexistent/dir/x.nodes"); });
  EXPECT_NE(absent.find("/nonexistent/dir/x.nodes"), std::string::npos) << absent;
}

TEST(PoolFiles, BadUserLineNamesFileAndLine) {
  auto msg = pool_error([] { parse_pool_users("tim:all\nnogroups\n", "u.users"); });
  EXPECT_NE(msg.find("u.users:2"), std::string::npos) << msg;
  auto empty = pool_error([] { parse_pool_users("# c\n:all\n", "u.users"); });
  EXPECT_NE(empty.find("u.users:2"), std::string::npos) << empty;
}

// Issue 14: validation accepted "0x202", "0202" and "20A" while the run matched only the exact name or
// the lower-case hex, got -1 and took it for the broadcast address. One resolver serves both now.
TEST(FindNode, NameOrKernelIdWrittenAnyWayTheLanguageAllows) {
  auto nodes = parse_node_descriptors("201:alpha:all:jt68030:4mb\n20a:beta:all:jt68030:4mb\n", "t.nodes");
  for (const std::string ref : {"beta", "20a", "20A", "0x20a", "0X20A", "020a", "0x0000020a"})
    EXPECT_EQ(find_node(nodes, ref), 1) << ref;
  EXPECT_EQ(find_node(nodes, "201"), 0);
  for (const std::string ref : {"", "0x", "Beta", "gamma", "20b", "-1", "0x1000000201", "20a ", "+201"})
    EXPECT_EQ(find_node(nodes, ref), -1) << ref;
  EXPECT_EQ(parse_kernel_id("0x202"), 0x202u);
  EXPECT_FALSE(parse_kernel_id("123456789"));  // nine significant digits: not a 32-bit id
}
