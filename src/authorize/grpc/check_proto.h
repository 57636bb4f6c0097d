#pragma once
// authorize::CheckRequest / CheckResponse <-> the messages of
// proto/authorize.proto. Internal to gatehouse_authorize_grpc: only its .cc
// files see the generated headers.

#include <google/protobuf/repeated_ptr_field.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authorize/client.h"
#include "proto/authorize.pb.h"

namespace gatehouse::authorize::proto {

namespace pb = ::gatehouse::authorize::v1;

// The request headers of a CheckRequest message, looked up in place.
class ProtoRequestHeaders final : public RequestHeaders {
 public:
  explicit ProtoRequestHeaders(const google::protobuf::RepeatedPtrField<pb::Header>& headers)
      : headers_(headers) {}
  std::optional<std::string_view> get(std::string_view name) const override;
  void forEach(
      const std::function<void(std::string_view name, std::string_view value)>& f) const override;

 private:
  const google::protobuf::RepeatedPtrField<pb::Header>& headers_;
};

// A CheckRequest over a message it owns: `request` borrows from `message`,
// so the object neither moves nor copies. The server keeps one per call for
// as long as the decision runs.
class OwnedCheckRequest {
 public:
  explicit OwnedCheckRequest(pb::CheckRequest message);
  OwnedCheckRequest(const OwnedCheckRequest&) = delete;
  OwnedCheckRequest& operator=(const OwnedCheckRequest&) = delete;

  const CheckRequest& request() const { return request_; }

 private:
  pb::CheckRequest message_;
  ProtoRequestHeaders headers_;
  std::vector<std::string> san_dns_;
  std::vector<std::string> san_email_;
  std::vector<std::string> san_uri_;
  CheckRequest request_;
};

void toProto(const CheckRequest& request, pb::CheckRequest& out);
void toProto(const CheckResponse& response, pb::CheckResponse& out);
// A kind this build does not know, or a status that is not an HTTP status,
// becomes a 503 error: an answer that cannot be read refuses.
CheckResponse fromProto(const pb::CheckResponse& response);

}  // namespace gatehouse::authorize::proto
