#pragma once

#include <memory>

#include "databroker/backend.h"
#include "databroker/client.h"

namespace gatehouse::databroker {

// The in-process client of `services: all`: calls the backend directly, on
// a small pool of its own threads so that blocking storage I/O never runs on
// the caller's event loop. No serialisation, no gRPC.
std::unique_ptr<Client> makeLocalClient(std::shared_ptr<Backend> backend, size_t threads = 2);

// The id a new lease gets (shared by the local client and the gRPC service).
std::string newLeaseId();

}  // namespace gatehouse::databroker
