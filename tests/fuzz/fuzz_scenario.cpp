// libFuzzer target: the scenario loader and validator (parse_scenario_text) on arbitrary bytes. A crash,
// a sanitizer report, a leak, a timeout or an exception other than ScenarioError is a finding.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  equus::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)equus::fuzz::validate(data, size);
  return 0;
}
