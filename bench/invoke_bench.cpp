#include "bench/invoke_bench.hpp"

#include <fmt/format.h>

#include <chrono>

#include "models/kernel/equus.hpp"
#include "models/kernel/system.hpp"
#include "sim/session.hpp"

namespace sg = simgrid::s4u;
using namespace equus::kernel;

namespace equus::bench {

BenchResult run_invoke_bench(long calls) {
  // The Equus pool as every run builds it; the raw SimGrid baseline shares its engine and hosts.
  sim::Session session(sim::shipped_pool(params::ModelParams::load()));
  System& sys = session.system();
  BenchResult r;
  r.calls = calls;

  sg::Actor::create("bench", sys.platform().unix_host(), [&] {
    using clock = std::chrono::steady_clock;
    // 1. Raw SimGrid: a mailbox round trip between actors on two cards.
    auto done = sg::Semaphore::create(0);
    auto* ping = sg::Mailbox::by_name("bench-ping");
    auto* pong = sg::Mailbox::by_name("bench-pong");
    static int token = 0;
    auto t0 = clock::now();
    sg::Actor::create("raw-pong", sys.platform().host(3), [&] {
      for (long i = 0; i < calls; ++i) pong->put(ping->get<int>(), 64);
    });
    sg::Actor::create("raw-ping", sys.platform().host(2), [&] {
      for (long i = 0; i < calls; ++i) {
        ping->put(&token, 64);
        pong->get<int>();
      }
      done->release();
    });
    done->acquire();
    r.raw_wall_s = std::chrono::duration<double>(clock::now() - t0).count();

    // 2. Simulated inc_invoke with inc_reply between the same two cards.
    int port = 0;
    auto& recv = sys.create(3, "receiver", [&port](Equus& eq) {
      Msg reply;
      for (;;) {
        Msg msg;
        int h = eq.inc_receive(port, &msg, 1, 0, -1);
        if (h > 1) eq.inc_reply(h, &reply);
      }
    });
    GlobalId chan = sys.bootstrap_channel(recv, ChanType::Unicast, &port);
    int stream = 0;
    auto& sender = sys.create(2, "sender", [&](Equus& eq) {
      for (long i = 0; i < calls; ++i) {
        Msg msg;
        eq.inc_invoke(stream, &msg);
      }
      done->release();
    });
    stream = sys.bootstrap_stream(sender, chan, ChanType::Unicast);
    auto t1 = clock::now();
    sys.start(recv);
    sys.start(sender);
    done->acquire();
    r.invoke_wall_s = std::chrono::duration<double>(clock::now() - t1).count();
    sys.destroy(recv);
    sys.destroy(sender);
  });
  session.engine().run();
  return r;
}

std::string format_bench(const BenchResult& r) {
  return fmt::format(
      "raw SimGrid mailbox round trips: {:>10.0f} /s  ({} in {:.3f} s)\n"
      "simulated inc_invoke + reply:    {:>10.0f} /s  ({} in {:.3f} s)\n"
      "ratio (invoke / raw round trip): {:.3f}\n",
      r.raw_per_s(), r.calls, r.raw_wall_s, r.invoke_per_s(), r.calls, r.invoke_wall_s, r.ratio());
}

}  // namespace equus::bench
