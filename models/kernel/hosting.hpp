// The incarnations a kernel hosts (Sections 8.2.2, 8.3): each with its ghost and system incarnation,
// their start and end, the events their end sends, and their move to another kernel on migration.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/kernel/incarnation.hpp"
#include "models/kernel/messages.hpp"

namespace equus::kernel {

class Kernel;
class Ghost;
class SystemIncarnation;
class Migrator;
class Process;

class Hosting {
 public:
  explicit Hosting(Kernel& kernel);
  ~Hosting();
  Hosting(const Hosting&) = delete;
  Hosting& operator=(const Hosting&) = delete;

  /// Creates an incarnation here with its ghost and system incarnation (not started) and its ghost port.
  Incarnation& host(RdcPtr rdc, int module, const std::string& name, Program program);
  /// Starts a hosted incarnation's processes.
  void start(Incarnation& inc);
  /// Ends an incarnation here: stops its processes, frees its ports, database entries and memory.
  void unhost(Incarnation& inc, const char* why);
  /// Migration: the incarnation's kernel data, ports and processes move to `to` (Section 7.4.4):
  /// redirection entries here for its kernel ports, database entries there.
  void move_incarnation(Incarnation& inc, Kernel& to);
  /// Starts this (destination) kernel's process migrating `inc` here.
  void start_migrator(Incarnation& inc, double committed, double text, KernelPortAddr manager_ghost);

  std::vector<Incarnation*> hosted(GlobalId rdc) const;  // live incarnations of an RDC here
  std::vector<Incarnation*> hosted() const;              // all live incarnations here
  Incarnation* find_incarnation(GlobalId gid) const;

  /// Tells the ghosts watching one of `inc`'s streams that it is closed (EV_SM_CLOSED).
  void notify_stream_closed(Incarnation& inc, GlobalId stream);
  /// An event with an elapsed time (EV_INC_MADE, EV_INC_MIGRATEDONE: microseconds in ed_info2), sent
  /// by `from` as one datagram to the interested ghost.
  void notify_elapsed(Process& from, KernelPortAddr ghost, GlobalId about, EvType type, double elapsed_s);

 private:
  struct Hosted {
    std::unique_ptr<Incarnation> inc;
    std::unique_ptr<Ghost> ghost;
    std::unique_ptr<SystemIncarnation> system;
    bool alive = true;
  };
  /// An event notification to a ghost, sent by the communications manager without waiting.
  void notify(KernelPortAddr ghost, GlobalId about, EvType type);
  /// Moves `inc`'s kernel ports (with their queues and database entries) to `to`.
  void move_ports(Incarnation& inc, Kernel& to);

  Kernel& kernel_;
  std::vector<Hosted> hosted_;
  std::vector<std::unique_ptr<Migrator>> migrators_;
};

}  // namespace equus::kernel
