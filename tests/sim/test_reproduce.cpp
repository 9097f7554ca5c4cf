// Input checking of the reproduce facade (the tables themselves are run by the tolerance test).
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/facade.hpp"

using namespace equus::sim;

namespace {
template <class F>
std::string runtime_error_of(F fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::runtime_error thrown";
  return "";
}
}  // namespace

TEST(Reproduce, UnknownTableThrowsNamingIt) {
  ReproduceOptions o;
  o.only = {"Z.9"};
  auto msg = runtime_error_of([&] { reproduce(o); });
  EXPECT_NE(msg.find("Z.9"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
}

TEST(Reproduce, UnknownTableAmongKnownOnesThrows) {
  ReproduceOptions o;
  o.only = {"A.1", "Z.9"};
  auto msg = runtime_error_of([&] { reproduce(o); });
  EXPECT_NE(msg.find("Z.9"), std::string::npos) << msg;
}

TEST(Reproduce, BadOverrideThrows) {
  ReproduceOptions o;
  o.only = {"A.1"};
  o.overrides = {{"kernel.no_such_parameter", "1"}};
  auto msg = runtime_error_of([&] { reproduce(o); });
  EXPECT_NE(msg.find("kernel.no_such_parameter"), std::string::npos) << msg;

  ReproduceOptions n;
  n.only = {"A.1"};
  n.overrides = {{"m68030.syscall_entry", "fast"}};
  auto nan = runtime_error_of([&] { reproduce(n); });
  EXPECT_NE(nan.find("m68030.syscall_entry"), std::string::npos) << nan;
}

TEST(Reproduce, BadRunOptionsThrow) {
  ReproduceOptions e;
  e.only = {"A.1"};
  e.experiments = 0;
  runtime_error_of([&] { reproduce(e); });
  ReproduceOptions c;
  c.only = {"A.1"};
  c.calls_scale = 0;
  runtime_error_of([&] { reproduce(c); });
}

TEST(Reproduce, KnownTablesIncludeAppendixA) {
  auto t = known_tables();
  EXPECT_NE(std::find(t.begin(), t.end(), "A.1"), t.end());
  EXPECT_NE(std::find(t.begin(), t.end(), "8.1"), t.end());
}

TEST(Reproduce, CellsToJsonOfNothingIsAnEmptyList) {
  auto j = cells_to_json({});
  EXPECT_NE(j.find("\"cells\""), std::string::npos) << j;
  EXPECT_NE(j.find("[]"), std::string::npos) << j;
}
