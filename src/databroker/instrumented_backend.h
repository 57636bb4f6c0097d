#pragma once

#include <memory>

#include "databroker/backend.h"
#include "metrics/storage_metrics.h"

namespace gatehouse::databroker {

// A Backend that times every operation of the backend it wraps into
// storage_operation_duration_ms (by operation, result and backend), so that
// no backend has to measure itself. Change streams use the wrapped
// backend's notifier. Thread-safe as the wrapped backend is; recording is a
// few relaxed atomic adds.
class InstrumentedBackend final : public Backend {
 public:
  InstrumentedBackend(std::shared_ptr<Backend> inner,
                      std::shared_ptr<metrics::StorageMetrics> metrics)
      : inner_(std::move(inner)), metrics_(std::move(metrics)) {}

  Result<Record> get(std::string_view type, std::string_view id) override;
  Result<PutResult> put(std::vector<Record> records) override;
  Result<PutResult> patch(std::vector<Record> records,
                          const std::vector<std::string>& field_mask) override;
  Result<QueryResult> query(const Query& query) override;
  Result<ChangeBatch> changes(const SyncPosition& from, std::string_view type,
                              size_t limit) override;
  Result<Snapshot> latest(std::string_view type) override;
  Result<ServerInfo> serverInfo() override;
  Result<std::vector<std::string>> listTypes() override;
  Result<TypeOptions> getOptions(std::string_view type) override;
  Result<void> setOptions(std::string_view type, const TypeOptions& options) override;
  Result<ClearResult> clear() override;
  Result<bool> acquireLease(std::string_view name, std::string_view id, Duration ttl) override;
  Result<bool> renewLease(std::string_view name, std::string_view id, Duration ttl) override;
  Result<void> releaseLease(std::string_view name, std::string_view id) override;
  Result<void> clean() override;

  ChangeNotifier& notifier() override { return inner_->notifier(); }

 private:
  std::shared_ptr<Backend> inner_;
  std::shared_ptr<metrics::StorageMetrics> metrics_;
};

}  // namespace gatehouse::databroker
