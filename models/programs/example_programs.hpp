// C++ module programs used by the example scenarios, registered by name for {"cpp": name}.
#pragma once

namespace equus::programs {

/// Registers "scheduler" (the text processing RDC's task scheduler, Figures 2.1 and 5.1).
void register_example_programs();

}  // namespace equus::programs
