// The loader (Section 8.3): controls access to its node (the kernel access list) and hosts
// incarnations there, fetching their text and data from the UNIX host's disc or an INCHOATE image.
#pragma once

#include "models/kernel/process.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

struct KernelMessage;
struct KernelPort;
struct HostRequest;

class Loader : public Process {
 public:
  /// Well-known global identifier of every node's loader (DLVR_NODE_SERVICE).
  static constexpr GlobalId gid = 1;
  explicit Loader(Kernel& kernel);
  void start();

 private:
  void run();
  void host(KernelMessage& m, const HostRequest& r);
  KernelPort* port_ = nullptr;
};

/// The file service of the launch program on the UNIX host: one disc, one request at a time.
class FileService : public Process {
 public:
  static constexpr GlobalId gid = 2;
  explicit FileService(Kernel& host_kernel);
  void start();

 private:
  void run();
  KernelPort* port_ = nullptr;
};

}  // namespace equus::kernel
