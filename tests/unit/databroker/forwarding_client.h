#pragma once
// A databroker client that passes every call on to another one. Tests
// derive from it and override the calls they hold back, count or change.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "databroker/client.h"

namespace gatehouse::databroker::testing {

class ForwardingClient : public Client {
 public:
  explicit ForwardingClient(Client& inner) : inner_(inner) {}

  void get(std::string type, std::string id, Callback<Record> done) override {
    inner_.get(std::move(type), std::move(id), std::move(done));
  }
  void put(std::vector<Record> records, Callback<PutResult> done) override {
    inner_.put(std::move(records), std::move(done));
  }
  void patch(std::vector<Record> records, std::vector<std::string> field_mask,
             Callback<PutResult> done) override {
    inner_.patch(std::move(records), std::move(field_mask), std::move(done));
  }
  void query(Query query, Callback<QueryResult> done) override {
    inner_.query(std::move(query), std::move(done));
  }
  void syncLatest(std::string type, Callback<Snapshot> done) override {
    inner_.syncLatest(std::move(type), std::move(done));
  }
  std::unique_ptr<SyncStream> sync(SyncPosition from, std::string type,
                                   SyncHandler handler) override {
    return inner_.sync(from, std::move(type), std::move(handler));
  }
  void serverInfo(Callback<ServerInfo> done) override { inner_.serverInfo(std::move(done)); }
  void listTypes(Callback<std::vector<std::string>> done) override {
    inner_.listTypes(std::move(done));
  }
  void getOptions(std::string type, Callback<TypeOptions> done) override {
    inner_.getOptions(std::move(type), std::move(done));
  }
  void setOptions(std::string type, TypeOptions options, Callback<void> done) override {
    inner_.setOptions(std::move(type), std::move(options), std::move(done));
  }
  void clear(Callback<ClearResult> done) override { inner_.clear(std::move(done)); }
  void acquireLease(std::string name, Duration ttl, Callback<std::string> done) override {
    inner_.acquireLease(std::move(name), ttl, std::move(done));
  }
  void renewLease(std::string name, std::string id, Duration ttl, Callback<void> done) override {
    inner_.renewLease(std::move(name), std::move(id), ttl, std::move(done));
  }
  void releaseLease(std::string name, std::string id, Callback<void> done) override {
    inner_.releaseLease(std::move(name), std::move(id), std::move(done));
  }

 protected:
  Client& inner_;
};

}  // namespace gatehouse::databroker::testing
