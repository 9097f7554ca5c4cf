// Every engine is built by support::make_engine: EQUUS_SIMGRID_CFG reaches it (how the sanitizer
// suite runs every test on thread contexts), after the defaults and before the program's options.
#include <gtest/gtest.h>

#include <cstdlib>
#include <xbt/config.hpp>

#include "models/support/simgrid_engine.hpp"

namespace equus::support {

TEST(SimgridEngine, EnvironmentConfigurationComesBetweenDefaultsAndProgramOptions) {
  ::setenv(simgrid_cfg_env, "  contexts/stack-size:300\t--log=equus.thres:critical ", 1);
  add_engine_option("--cfg=contexts/guard-size:0");
  EXPECT_EQ(engine_options(),
            (std::vector<std::string>{"--log=root.thres:critical", "--cfg=contexts/stack-size:300",
                                      "--log=equus.thres:critical", "--cfg=contexts/guard-size:0"}));
  auto engine = make_engine("test");
  EXPECT_EQ(simgrid::config::get_value<int>("contexts/stack-size"), 300);
  EXPECT_EQ(simgrid::config::get_value<int>("contexts/guard-size"), 0);
  (void)engine.release();  // one engine per process: it goes with the process
}

TEST(SimgridEngine, BadItemsAreRejectedNamingTheVariable) {
  ::setenv(simgrid_cfg_env, "--verbose", 1);
  try {
    (void)engine_options();
    FAIL() << "accepted --verbose";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("EQUUS_SIMGRID_CFG: '--verbose'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(add_engine_option("contexts/stack-size:1"), std::invalid_argument);
}

}  // namespace equus::support
