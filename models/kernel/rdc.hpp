// RDC-level definitions shared by the kernel and the run-time: modules (Section 3.1), incarnation
// parameters (Figure 5.2) and RDC identity (Section 3.3).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/kernel/types.hpp"

namespace equus::kernel {

class Equus;
using Program = std::function<void(Equus&)>;

/// A module of an RDC binary: its segment sizes and the program its incarnations run.
struct Module {
  std::string name;
  double text_bytes = 0;  // shared between incarnations of the module on one node
  double data_bytes = 0;  // initialised data, fetched with the text
  double heap_bytes = 0;
  double stack_bytes = 0;
  Program program;
  bool service = false;  // a server that runs as long as it is needed: it does not keep a run alive
};

/// One declared interface of a new incarnation (IncInterface of Figure 5.2).
struct IncInterface {
  std::string name;  // the program's name for it (op language), not seen by the kernel
  enum class Kind : uint8_t { Stream, Port } kind = Kind::Stream;
  bool chan_new = false;  // ports: CHAN_NEW (create the channel) or CHAN_OTHER
  ChanType type = ChanType::Unicast;
  std::string chan_label;
  std::string handle_label;  // "" for none
  int ref = 0;               // filled by the preamble: the reference realising the interface
};

/// IncParams (Figure 5.2): data arguments and interfaces.
struct IncParams {
  std::vector<int64_t> args;
  std::vector<IncInterface> ifaces;
};

enum class IncState : uint8_t { Loading, Inchoate, Started, Frozen, Dead };

/// IncCreateParams (Appendix B.1).
struct IncCreateParams {
  bool inchoate = false;  // ic_state: INCHOATE rather than STARTED
  IncParams params;
};

/// An RDC: identity, owner and binary.
struct Rdc {
  GlobalId id = 0;
  std::string name;
  std::string user;
  bool system = false;  // system RDCs may allocate and withdraw nodes
  std::vector<Module> modules;
  // Default streams every incarnation gets (Section 3.3): channels of the services.
  GlobalId name_service = 0;
  GlobalId pool_manager = 0;
  GlobalId stream_space = 0;
  // The ghost of the launch program that launched it (invalid for system RDCs): every incarnation of
  // the RDC is absolutely dependent upon it by default (Section 7.3).
  KernelPortAddr launch_ghost;
};

using RdcPtr = std::shared_ptr<const Rdc>;

}  // namespace equus::kernel
