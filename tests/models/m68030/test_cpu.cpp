// The card's scheduler: strict priorities, equal sharing within a level, context switches.
#include <gtest/gtest.h>

#include <memory>

#include "models/m68030/cpu.hpp"
#include "models/support/simgrid_engine.hpp"

namespace sg = simgrid::s4u;
using equus::m68030::Cpu;
using equus::m68030::CpuParams;
using equus::m68030::Priority;

namespace {

struct CpuTest : ::testing::Test {
  void SetUp() override {
    engine_ = equus::support::make_engine("test");
    auto* zone = sg::create_full_zone("z");
    host_ = zone->create_host("card", 1e9);
    zone->seal();
    p_.speed_factor = 1;
    p_.clock_hz = 60;
    p_.clock_tick_cost = 0;
    p_.context_switch = 1e-3;
    p_.local_copy_rate = 1e6;
  }
  std::unique_ptr<sg::Engine> engine_;
  sg::Host* host_ = nullptr;
  CpuParams p_;
};

const int a = 0, b = 0, c = 0;  // process identities

TEST_F(CpuTest, InterruptPreemptsAProcess) {
  Cpu cpu(host_, p_);
  double sys_end = 0, int_end = 0;
  sg::Actor::create("sys", host_, [&] {
    cpu.run(&a, Priority::System, 10e-3);
    sys_end = sg::Engine::get_clock();
  });
  sg::Actor::create("irq", host_, [&] {
    sg::this_actor::sleep_for(1e-3);
    cpu.run(nullptr, Priority::Interrupt, 2e-3);
    int_end = sg::Engine::get_clock();
  });
  engine_->run();
  EXPECT_NEAR(int_end, 3e-3, 1e-9);
  EXPECT_NEAR(sys_end, 12e-3, 1e-9);
  EXPECT_EQ(cpu.context_switches(), 0);  // interrupts run in the current context
}

TEST_F(CpuTest, GhostRunsBeforeSystemIncarnationAndWaitsForNobodyBelow) {
  Cpu cpu(host_, p_);
  p_.context_switch = 0;
  double sys_end = 0, ghost_end = 0;
  sg::Actor::create("sys", host_, [&] {
    cpu.run(&a, Priority::System, 4e-3);
    sys_end = sg::Engine::get_clock();
  });
  sg::Actor::create("ghost", host_, [&] {
    sg::this_actor::sleep_for(1e-3);
    cpu.run(&b, Priority::Ghost, 3e-3);
    ghost_end = sg::Engine::get_clock();
  });
  engine_->run();
  EXPECT_NEAR(ghost_end, 4e-3, 1e-9);
  EXPECT_NEAR(sys_end, 7e-3, 1e-9);
}

TEST_F(CpuTest, EqualPrioritiesShareTheProcessor) {
  p_.context_switch = 0;
  Cpu cpu(host_, p_);
  double end_a = 0, end_b = 0;
  sg::Actor::create("a", host_, [&] {
    cpu.run(&a, Priority::System, 10e-3);
    end_a = sg::Engine::get_clock();
  });
  sg::Actor::create("b", host_, [&] {
    cpu.run(&b, Priority::System, 4e-3);
    end_b = sg::Engine::get_clock();
  });
  engine_->run();
  EXPECT_NEAR(end_b, 8e-3, 1e-9);   // half the processor until it is done
  EXPECT_NEAR(end_a, 14e-3, 1e-9);  // then the whole of it
}

TEST_F(CpuTest, ContextSwitchChargedOnlyWhenAnotherProcessRan) {
  Cpu cpu(host_, p_);
  double t1 = 0, t2 = 0, t3 = 0;
  sg::Actor::create("seq", host_, [&] {
    cpu.run(&a, Priority::System, 1e-3);  // first process: nothing to switch from
    t1 = sg::Engine::get_clock();
    cpu.run(&a, Priority::System, 1e-3);  // same process again: not descheduled
    t2 = sg::Engine::get_clock();
    cpu.run(nullptr, Priority::Interrupt, 1e-3);
    cpu.run(&c, Priority::System, 1e-3);  // another process: a switch
    t3 = sg::Engine::get_clock();
  });
  engine_->run();
  EXPECT_NEAR(t1, 1e-3, 1e-9);
  EXPECT_NEAR(t2, 2e-3, 1e-9);
  EXPECT_NEAR(t3, 5e-3, 1e-9);
  EXPECT_EQ(cpu.context_switches(), 1);
}

TEST_F(CpuTest, SpeedFactorScalesWork) {
  p_.speed_factor = 2;
  Cpu cpu(host_, p_);
  double end = 0;
  sg::Actor::create("a", host_, [&] {
    cpu.run(&a, Priority::System, 10e-3);
    end = sg::Engine::get_clock();
  });
  engine_->run();
  EXPECT_NEAR(end, 5e-3, 1e-9);
}

}  // namespace
