#include "databroker/local_client.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "crypto/random.h"
#include "databroker/sync_gate.h"

namespace gatehouse::databroker {
namespace {

namespace asio = boost::asio;

constexpr size_t kSyncBatch = 1000;

// One change stream: pulls batches from the backend on the pool whenever the
// backend's notifier says something was committed.
class LocalSync : public std::enable_shared_from_this<LocalSync> {
 public:
  LocalSync(std::shared_ptr<Backend> backend, asio::thread_pool& pool, SyncPosition from,
            std::string type, SyncHandler handler)
      : backend_(std::move(backend)),
        pool_(pool),
        position_(from),
        type_(std::move(type)),
        gate_(std::move(handler)) {}

  void start() {
    std::weak_ptr<LocalSync> weak = weak_from_this();
    watch_ = backend_->notifier().watch([weak] {
      if (auto self = weak.lock()) self->kick();
    });
    kick();
  }

  void stop() {
    gate_.close();
    std::lock_guard lock(mutex_);
    finished_ = true;
  }

  // Destroyed from the stream handle, outside any notifier callback.
  void dropWatch() { watch_.reset(); }

 private:
  void kick() {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    if (scheduled_) {
      dirty_ = true;
      return;
    }
    scheduled_ = true;
    asio::post(pool_, [self = shared_from_this()] { self->pull(); });
  }

  void pull() {
    while (true) {
      {
        std::lock_guard lock(mutex_);
        dirty_ = false;
        if (finished_) return;
      }
      auto batch = backend_->changes(position_, type_, kSyncBatch);
      if (!batch) {
        {
          std::lock_guard lock(mutex_);
          finished_ = true;
        }
        gate_.fail(batch.error());
        return;
      }
      position_.record_version = batch->record_version;
      if (!batch->records.empty() && !gate_.deliver(std::move(batch->records))) return;
      if (batch->more) continue;
      std::lock_guard lock(mutex_);
      if (!dirty_) {
        scheduled_ = false;
        return;
      }
    }
  }

  std::shared_ptr<Backend> backend_;
  asio::thread_pool& pool_;
  SyncPosition position_;  // used only by the one pull() in flight
  std::string type_;
  SyncGate gate_;
  std::unique_ptr<ChangeNotifier::Watch> watch_;
  std::mutex mutex_;
  bool scheduled_ = false;
  bool dirty_ = false;
  bool finished_ = false;
};

class LocalSyncStream final : public SyncStream {
 public:
  explicit LocalSyncStream(std::shared_ptr<LocalSync> sync) : sync_(std::move(sync)) {}
  ~LocalSyncStream() override {
    sync_->stop();
    sync_->dropWatch();
  }

 private:
  std::shared_ptr<LocalSync> sync_;
};

class LocalClient final : public Client {
 public:
  LocalClient(std::shared_ptr<Backend> backend, size_t threads)
      : backend_(std::move(backend)), pool_(threads) {}
  ~LocalClient() override { pool_.join(); }

  void get(std::string type, std::string id, Callback<Record> done) override {
    run(std::move(done), [=, this] { return backend_->get(type, id); });
  }
  void put(std::vector<Record> records, Callback<PutResult> done) override {
    run(std::move(done), [this, records = std::move(records)]() mutable {
      return backend_->put(std::move(records));
    });
  }
  void patch(std::vector<Record> records, std::vector<std::string> field_mask,
             Callback<PutResult> done) override {
    run(std::move(done),
        [this, records = std::move(records), mask = std::move(field_mask)]() mutable {
          return backend_->patch(std::move(records), mask);
        });
  }
  void query(Query query, Callback<QueryResult> done) override {
    run(std::move(done), [this, query = std::move(query)] { return backend_->query(query); });
  }
  void syncLatest(std::string type, Callback<Snapshot> done) override {
    run(std::move(done), [this, type = std::move(type)] { return backend_->latest(type); });
  }
  std::unique_ptr<SyncStream> sync(SyncPosition from, std::string type,
                                   SyncHandler handler) override {
    auto sync =
        std::make_shared<LocalSync>(backend_, pool_, from, std::move(type), std::move(handler));
    sync->start();
    return std::make_unique<LocalSyncStream>(std::move(sync));
  }
  void serverInfo(Callback<ServerInfo> done) override {
    run(std::move(done), [this] { return backend_->serverInfo(); });
  }
  void listTypes(Callback<std::vector<std::string>> done) override {
    run(std::move(done), [this] { return backend_->listTypes(); });
  }
  void getOptions(std::string type, Callback<TypeOptions> done) override {
    run(std::move(done), [this, type = std::move(type)] { return backend_->getOptions(type); });
  }
  void setOptions(std::string type, TypeOptions options, Callback<void> done) override {
    run(std::move(done), [this, type = std::move(type), options = std::move(options)] {
      return backend_->setOptions(type, options);
    });
  }
  void clear(Callback<ClearResult> done) override {
    run(std::move(done), [this] { return backend_->clear(); });
  }
  void acquireLease(std::string name, Duration ttl, Callback<std::string> done) override {
    run(std::move(done), [this, name = std::move(name), ttl]() -> Result<std::string> {
      std::string id = newLeaseId();
      auto acquired = backend_->acquireLease(name, id, ttl);
      if (!acquired) return acquired.error();
      if (!*acquired) return alreadyExists("lease " + name + " is held by someone else");
      return id;
    });
  }
  void renewLease(std::string name, std::string id, Duration ttl, Callback<void> done) override {
    run(std::move(done), [this, name = std::move(name), id = std::move(id), ttl]() -> Result<void> {
      auto renewed = backend_->renewLease(name, id, ttl);
      if (!renewed) return renewed.error();
      if (!*renewed) return alreadyExists("lease " + name + " was lost");
      return {};
    });
  }
  void releaseLease(std::string name, std::string id, Callback<void> done) override {
    run(std::move(done), [this, name = std::move(name), id = std::move(id)] {
      return backend_->releaseLease(name, id);
    });
  }

 private:
  template <typename T, typename Work>
  void run(Callback<T> done, Work work) {
    asio::post(pool_, [done = std::move(done), work = std::move(work)]() mutable { done(work()); });
  }

  std::shared_ptr<Backend> backend_;
  asio::thread_pool pool_;
};

}  // namespace

std::string newLeaseId() { return crypto::randomId(); }

std::unique_ptr<Client> makeLocalClient(std::shared_ptr<Backend> backend, size_t threads) {
  return std::make_unique<LocalClient>(std::move(backend), threads == 0 ? 1 : threads);
}

}  // namespace gatehouse::databroker
