#include "databroker/instrumented_backend.h"

#include <chrono>

namespace gatehouse::databroker {
namespace {

using Operation = metrics::StorageMetrics::Operation;

// Runs `call` and records how long it took and whether it succeeded. A
// NotFound from get() is an answer, not a storage failure, and counts as
// success; so does a lease that someone else holds.
template <typename Call>
auto timed(metrics::StorageMetrics& metrics, Operation operation, Call&& call) {
  auto start = std::chrono::steady_clock::now();
  auto result = call();
  bool success = result.ok() || result.error().code == ErrorCode::kNotFound;
  metrics.record(operation, success, std::chrono::steady_clock::now() - start);
  return result;
}

}  // namespace

Result<Record> InstrumentedBackend::get(std::string_view type, std::string_view id) {
  return timed(*metrics_, Operation::kGet, [&] { return inner_->get(type, id); });
}

Result<PutResult> InstrumentedBackend::put(std::vector<Record> records) {
  return timed(*metrics_, Operation::kPut, [&] { return inner_->put(std::move(records)); });
}

Result<PutResult> InstrumentedBackend::patch(std::vector<Record> records,
                                             const std::vector<std::string>& field_mask) {
  return timed(*metrics_, Operation::kPatch,
               [&] { return inner_->patch(std::move(records), field_mask); });
}

Result<QueryResult> InstrumentedBackend::query(const Query& query) {
  return timed(*metrics_, Operation::kQuery, [&] { return inner_->query(query); });
}

Result<ChangeBatch> InstrumentedBackend::changes(const SyncPosition& from, std::string_view type,
                                                 size_t limit) {
  return timed(*metrics_, Operation::kSync, [&] { return inner_->changes(from, type, limit); });
}

Result<Snapshot> InstrumentedBackend::latest(std::string_view type) {
  return timed(*metrics_, Operation::kSyncLatest, [&] { return inner_->latest(type); });
}

Result<ServerInfo> InstrumentedBackend::serverInfo() {
  return timed(*metrics_, Operation::kServerInfo, [&] { return inner_->serverInfo(); });
}

Result<std::vector<std::string>> InstrumentedBackend::listTypes() {
  return timed(*metrics_, Operation::kListTypes, [&] { return inner_->listTypes(); });
}

Result<TypeOptions> InstrumentedBackend::getOptions(std::string_view type) {
  return timed(*metrics_, Operation::kGetOptions, [&] { return inner_->getOptions(type); });
}

Result<void> InstrumentedBackend::setOptions(std::string_view type, const TypeOptions& options) {
  return timed(*metrics_, Operation::kSetOptions,
               [&] { return inner_->setOptions(type, options); });
}

Result<ClearResult> InstrumentedBackend::clear() {
  return timed(*metrics_, Operation::kClear, [&] { return inner_->clear(); });
}

Result<bool> InstrumentedBackend::acquireLease(std::string_view name, std::string_view id,
                                               Duration ttl) {
  return timed(*metrics_, Operation::kAcquireLease,
               [&] { return inner_->acquireLease(name, id, ttl); });
}

Result<bool> InstrumentedBackend::renewLease(std::string_view name, std::string_view id,
                                             Duration ttl) {
  return timed(*metrics_, Operation::kRenewLease,
               [&] { return inner_->renewLease(name, id, ttl); });
}

Result<void> InstrumentedBackend::releaseLease(std::string_view name, std::string_view id) {
  return timed(*metrics_, Operation::kReleaseLease, [&] { return inner_->releaseLease(name, id); });
}

Result<void> InstrumentedBackend::clean() {
  return timed(*metrics_, Operation::kClean, [&] { return inner_->clean(); });
}

}  // namespace gatehouse::databroker
