// Chrome trace-event JSON of a run (opens in Perfetto / chrome://tracing); see docs/outputs.md.
#pragma once

#include <ostream>
#include <string>

#include "sim/output/recorder.hpp"

namespace equus::sim {

/// One process per node, one thread per incarnation hosting (more if its calls overlap without
/// nesting), a "kernel" thread per node anchoring the kernel-message flow arrows. Timestamps in us.
void write_trace(const Recorder& rec, std::ostream& out);
/// Throws std::runtime_error if `path` cannot be written.
void write_trace(const Recorder& rec, const std::string& path);

}  // namespace equus::sim
