// The VME bus scheduler: latency, then equal shares of a capacity that shrinks with contention. Its
// oracle is SimGrid itself: the same copies as comms over a NONLINEAR link end at the same times.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "models/support/simgrid_engine.hpp"
#include "models/vme/bus.hpp"

namespace sg = simgrid::s4u;
using equus::vme::Bus;
using equus::vme::VmeParams;

namespace {

VmeParams params() {
  VmeParams p;
  p.bus_bandwidth = 3.2e6;
  p.arbitration_penalty = 0.1661;
  p.transaction_latency = 5e-6;
  return p;
}

struct Copy {
  double start, bytes, rate;
};

/// Runs the copies through `Bus`, or as SimGrid comms over a link configured as the platform's bus;
/// returns their completion times.
std::vector<double> run(const std::vector<Copy>& copies, bool simgrid_link) {
  auto engine_owner = equus::support::make_engine("test");
  sg::Engine& engine = *engine_owner;
  engine.set_config("network/model:CM02");
  engine.set_config("network/crosstraffic:0");
  VmeParams p = params();
  auto* zone = sg::create_full_zone("z");
  std::vector<sg::Host*> cards;
  for (int i = 0; i < 4; ++i) cards.push_back(zone->create_host("card" + std::to_string(i), 1e9));
  double penalty = p.arbitration_penalty;
  auto* link = zone->create_link("vme", p.bus_bandwidth)
                   ->set_latency(p.transaction_latency)
                   ->set_sharing_policy(sg::Link::SharingPolicy::NONLINEAR,
                                        [penalty](double capacity, int n) {
                                          return n <= 1 ? capacity : capacity / (1.0 + penalty * (n - 1));
                                        })
                   ->seal();
  for (std::size_t i = 0; i < cards.size(); ++i)
    for (std::size_t j = i + 1; j < cards.size(); ++j)
      zone->add_route(cards[i]->get_netpoint(), cards[j]->get_netpoint(), nullptr, nullptr,
                      {sg::LinkInRoute(link)}, true);
  zone->seal();
  Bus bus(p);
  std::vector<double> end(copies.size(), -1);
  for (std::size_t i = 0; i < copies.size(); ++i) {
    sg::Host* from = cards[i % cards.size()];
    sg::Host* to = cards[(i + 1) % cards.size()];
    sg::Actor::create("copy" + std::to_string(i), from, [&, i, from, to] {
      const Copy& c = copies[i];
      sg::this_actor::sleep_until(c.start);
      if (simgrid_link) {
        auto comm = sg::Comm::sendto_init(from, to);
        double occupancy = c.rate < p.bus_bandwidth ? p.bus_bandwidth / c.rate : 1.0;  // as the platform's
        comm->set_payload_size(static_cast<uint64_t>(std::ceil(c.bytes * occupancy)));
        comm->start()->wait();
      } else {
        bus.copy(from, to, c.bytes, c.rate);
      }
      end[i] = sg::Engine::get_clock();
    });
  }
  engine.run();
  return end;
}

/// run() in a child process: SimGrid allows one engine per process.
std::vector<double> run_forked(const std::vector<Copy>& copies, bool simgrid_link) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    auto end = run(copies, simgrid_link);
    ssize_t n = write(fds[1], end.data(), end.size() * sizeof(double));
    _exit(n == static_cast<ssize_t>(end.size() * sizeof(double)) ? 0 : 1);
  }
  close(fds[1]);
  std::vector<double> end(copies.size(), -1);
  std::size_t got = 0;
  auto* out = reinterpret_cast<char*>(end.data());
  ssize_t n;
  while ((n = read(fds[0], out + got, end.size() * sizeof(double) - got)) > 0)
    got += static_cast<std::size_t>(n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return end;
}

}  // namespace

TEST(Bus, AloneACopyTakesTheLatencyThenRunsAtItsLoopsRate) {
  auto end = run({{0.0, 1000, 1e6}}, false);
  EXPECT_NEAR(end[0], 5e-6 + 1000 / 1e6, 1e-9);
}

TEST(Bus, TwoCopiesShareTheCapacityThatContentionLeaves) {
  // Both at full bus occupancy (rate = bandwidth): each gets C / (1 + a) / 2 while both run.
  VmeParams p = params();
  double bytes = 64000;
  auto end = run({{0.0, bytes, p.bus_bandwidth}, {0.0, bytes, p.bus_bandwidth}}, false);
  double share = p.bus_bandwidth / (1 + p.arbitration_penalty) / 2;
  EXPECT_NEAR(end[0], 5e-6 + bytes / share, 1e-9);
  EXPECT_NEAR(end[1], end[0], 1e-12);
}

TEST(Bus, ALaterCopySlowsAnEarlierOneWhichSpeedsUpWhenItEnds) {
  VmeParams p = params();
  double c = p.bus_bandwidth, s2 = c / (1 + p.arbitration_penalty) / 2, l = 5e-6;
  // The first copy runs alone for 10 ms, then shares with a short second one, then is alone again.
  auto end = run({{0.0, 100000, c}, {0.01, 10000, c}}, false);
  double first_alone = c * 0.01;   // alone from the end of its latency (l) to the second's (0.01 + l)
  double second = l + 10000 / s2;  // the second: latency, then a share throughout
  EXPECT_NEAR(end[1], 0.01 + second, 1e-9);
  double moved_shared = s2 * (end[1] - (0.01 + l));
  EXPECT_NEAR(end[0], end[1] + (100000 - first_alone - moved_shared) / c, 1e-9);
}

TEST(Bus, EndsWhereASimGridLinkWouldForRandomOverlappingCopies) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> start(0, 0.05), bytes(0, 70000), rate(0.5e6, 4e6);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<Copy> copies;
    for (int i = 0; i < 12; ++i) copies.push_back({start(rng), std::floor(bytes(rng)), rate(rng)});
    auto ours = run_forked(copies, false), theirs = run_forked(copies, true);
    for (std::size_t i = 0; i < copies.size(); ++i)
      EXPECT_NEAR(ours[i], theirs[i], 1e-9 + 1e-7 * theirs[i]) << "trial " << trial << " copy " << i;
  }
}
