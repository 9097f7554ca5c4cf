// The loader (Section 8.3): controls access to its node (the kernel access list) and hosts
// incarnations there, fetching their text and data from the UNIX host's disc or an INCHOATE image.
#pragma once

#include "models/kernel/process.hpp"
#include "models/kernel/types.hpp"

namespace equus::kernel {

class Incarnation;
struct KernelMessage;
struct KernelPort;
struct HostRequest;
struct MigrateHost;
struct LoaderAccess;

/// A process serving requests sent to a well-known global identifier of its node (DLVR_NODE_SERVICE).
class NodeService : public Process {
 public:
  void start();

 protected:
  NodeService(Kernel& kernel, const char* name, GlobalId gid);
  virtual void serve(KernelMessage& m) = 0;

 private:
  void run();
  const char* name_;
  GlobalId gid_;
  KernelPort* port_ = nullptr;
};

class Loader : public NodeService {
 public:
  /// Well-known global identifier of every node's loader.
  static constexpr GlobalId gid = 1;
  explicit Loader(Kernel& kernel);

 private:
  void serve(KernelMessage& m) override;
  void host(KernelMessage& m, const HostRequest& r);
  void fork(KernelMessage& m, const HostRequest& r, double memory, double text);
  /// The streams to the RDC's name service, pool manager and stream space (Section 3.3).
  void add_default_streams(Incarnation& inc);
  /// M1 at the destination: validates and commits memory, then a Migrator does M3 and M4.
  void migrate_host(KernelMessage& m, const MigrateHost& h);
  /// inc_nodeAlloc / inc_nodeWithdraw.
  void access(const KernelMessage& m, const LoaderAccess& a);
  void status(const KernelMessage& m);
};

/// The file service of the launch program on the UNIX host: one disc, one request at a time.
class FileService : public NodeService {
 public:
  static constexpr GlobalId gid = 2;
  explicit FileService(Kernel& host_kernel);

 private:
  void serve(KernelMessage& m) override;
};

}  // namespace equus::kernel
