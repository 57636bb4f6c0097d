#pragma once
// authorize::CheckRequest / CheckResponse <-> the messages of
// proto/authorize.proto. Internal to gatehouse_authorize_grpc: only its .cc
// files see the generated headers.

#include <google/protobuf/repeated_ptr_field.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// A CheckRequest over a message it borrows, which must outlive it; the
// object neither moves nor copies.
class CheckRequestView {
 public:
  explicit CheckRequestView(const pb::CheckRequest& message);
  CheckRequestView(const CheckRequestView&) = delete;
  CheckRequestView& operator=(const CheckRequestView&) = delete;

  const CheckRequest& request() const { return request_; }

 private:
  ProtoRequestHeaders headers_;
  std::vector<std::string> san_dns_;
  std::vector<std::string> san_email_;
  std::vector<std::string> san_uri_;
  CheckRequest request_;
};

// A CheckRequest over a message it owns, for a decision that outlives
// gRPC's copy; the object neither moves nor copies.
class OwnedCheckRequest {
 public:
  explicit OwnedCheckRequest(pb::CheckRequest message)
      : message_(std::move(message)), view_(message_) {}
  OwnedCheckRequest(const OwnedCheckRequest&) = delete;
  OwnedCheckRequest& operator=(const OwnedCheckRequest&) = delete;

  const CheckRequest& request() const { return view_.request(); }

 private:
  pb::CheckRequest message_;
  CheckRequestView view_;
};

void toProto(const CheckRequest& request, pb::CheckRequest& out);
void toProto(const CheckResponse& response, pb::CheckResponse& out);
// A kind this build does not know, or a status that is not an HTTP status,
// becomes a 503 error: an answer that cannot be read refuses.
CheckResponse fromProto(const pb::CheckResponse& response);

}  // namespace gatehouse::authorize::proto
