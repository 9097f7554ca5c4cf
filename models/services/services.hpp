// The Equus services that are incarnations like any other (Sections 3.3, 5.4, 5.5): the name service
// and the per-RDC stream space. They speak the protocol of models/kernel/service_protocol.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/kernel/rdc.hpp"
#include "models/kernel/service_protocol.hpp"

namespace equus::services {

kernel::Program stream_space_program();
kernel::Program name_service_program();

// What every server of the system RDC does with a request (also used by the pool manager).
/// Waits for the next request at the server's standard port; the invoker stays blocked until replied
/// to. Returns the reply handle, with the label (extra data) in `buf`.
int next_request(kernel::Equus& eq, kernel::Msg& m, std::vector<std::byte>& buf);
/// The label carried as extra data of request `m` (zero padding cut).
std::string label_of(const kernel::Msg& m, const std::vector<std::byte>& buf);
/// Replies with a status word and, optionally, a reference.
void reply_status(kernel::Equus& eq, int handle, uint32_t status, kernel::RefDescrip ref = {});

}  // namespace equus::services
