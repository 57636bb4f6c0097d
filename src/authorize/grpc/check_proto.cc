#include "authorize/grpc/check_proto.h"

#include <utility>

#include "common/strings.h"

namespace gatehouse::authorize::proto {
namespace {

std::vector<std::string> copyAll(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return std::vector<std::string>(values.begin(), values.end());
}

void addAll(std::span<const std::string> values,
            google::protobuf::RepeatedPtrField<std::string>& out) {
  out.Reserve(static_cast<int>(values.size()));
  for (const auto& value : values) out.Add()->assign(value);
}

void addHeader(google::protobuf::RepeatedPtrField<pb::Header>& out, std::string_view name,
               std::string_view value) {
  pb::Header* header = out.Add();
  header->set_name(name.data(), name.size());
  header->set_value(value.data(), value.size());
}

CheckResponse unreadable(std::string details) {
  CheckResponse response;
  response.kind = CheckResponse::Kind::kError;
  response.status = 503;
  response.details = "authorize service answered " + std::move(details);
  return response;
}

}  // namespace

std::optional<std::string_view> ProtoRequestHeaders::get(std::string_view name) const {
  for (const auto& header : headers_) {
    if (iequals(header.name(), name)) return std::string_view(header.value());
  }
  return std::nullopt;
}

void ProtoRequestHeaders::forEach(
    const std::function<void(std::string_view name, std::string_view value)>& f) const {
  for (const auto& header : headers_) f(header.name(), header.value());
}

CheckRequestView::CheckRequestView(const pb::CheckRequest& message)
    : headers_(message.headers()),
      san_dns_(copyAll(message.client_certificate().san_dns())),
      san_email_(copyAll(message.client_certificate().san_email())),
      san_uri_(copyAll(message.client_certificate().san_uri())) {
  request_.route_index = message.route_index();
  request_.route_id = message.route_id();
  request_.internal = message.internal();
  request_.method = message.method();
  request_.scheme = message.scheme();
  request_.authority = message.authority();
  request_.host = message.host();
  request_.path = message.path();
  request_.query = message.query();
  request_.headers = &headers_;
  request_.client_ip = message.client_ip();
  const pb::ClientCertificate& certificate = message.client_certificate();
  auto& input = request_.client_certificate;
  input.presented = certificate.presented();
  input.valid = certificate.valid();
  input.fingerprint_sha256 = certificate.fingerprint_sha256();
  input.spki_sha256_base64 = certificate.spki_sha256_base64();
  input.san_dns = san_dns_;
  input.san_email = san_email_;
  input.san_uri = san_uri_;
}

void toProto(const CheckRequest& request, pb::CheckRequest& out) {
  out.set_route_index(request.route_index);
  std::string_view route_id = request.routeId();
  out.set_route_id(route_id.data(), route_id.size());
  out.set_internal(request.internal);
  out.set_method(request.method.data(), request.method.size());
  out.set_scheme(request.scheme.data(), request.scheme.size());
  out.set_authority(request.authority.data(), request.authority.size());
  out.set_host(request.host.data(), request.host.size());
  out.set_path(request.path.data(), request.path.size());
  out.set_query(request.query.data(), request.query.size());
  if (request.headers != nullptr) {
    auto& headers = *out.mutable_headers();
    request.headers->forEach(
        [&](std::string_view name, std::string_view value) { addHeader(headers, name, value); });
  }
  out.set_client_ip(request.client_ip.data(), request.client_ip.size());
  const auto& input = request.client_certificate;
  pb::ClientCertificate& certificate = *out.mutable_client_certificate();
  certificate.set_presented(input.presented);
  certificate.set_valid(input.valid);
  certificate.set_fingerprint_sha256(input.fingerprint_sha256.data(),
                                     input.fingerprint_sha256.size());
  certificate.set_spki_sha256_base64(input.spki_sha256_base64.data(),
                                     input.spki_sha256_base64.size());
  addAll(input.san_dns, *certificate.mutable_san_dns());
  addAll(input.san_email, *certificate.mutable_san_email());
  addAll(input.san_uri, *certificate.mutable_san_uri());
}

void toProto(const CheckResponse& response, pb::CheckResponse& out) {
  switch (response.kind) {
    case CheckResponse::Kind::kAllow:
      out.set_kind(pb::CheckResponse::KIND_ALLOW);
      break;
    case CheckResponse::Kind::kRespond:
      out.set_kind(pb::CheckResponse::KIND_RESPOND);
      break;
    case CheckResponse::Kind::kError:
      out.set_kind(pb::CheckResponse::KIND_ERROR);
      break;
  }
  out.set_status(response.status);
  auto& headers = *out.mutable_headers();
  headers.Reserve(static_cast<int>(response.headers.size()));
  for (const auto& [name, value] : response.headers) addHeader(headers, name, value);
  out.set_body(response.body);
  out.set_details(response.details);
  out.set_grpc(response.grpc);
}

CheckResponse fromProto(const pb::CheckResponse& response) {
  CheckResponse out;
  switch (response.kind()) {
    case pb::CheckResponse::KIND_ALLOW:
      out.kind = CheckResponse::Kind::kAllow;
      break;
    case pb::CheckResponse::KIND_RESPOND:
      out.kind = CheckResponse::Kind::kRespond;
      break;
    case pb::CheckResponse::KIND_ERROR:
      out.kind = CheckResponse::Kind::kError;
      break;
    default:
      return unreadable("an unknown kind of response (" + std::to_string(response.kind()) + ")");
  }
  out.status = response.status();
  if (out.kind != CheckResponse::Kind::kAllow && (out.status < 100 || out.status > 599)) {
    return unreadable("an invalid status (" + std::to_string(out.status) + ")");
  }
  out.headers.reserve(static_cast<size_t>(response.headers_size()));
  for (const auto& header : response.headers())
    out.headers.emplace_back(header.name(), header.value());
  out.body = response.body();
  out.details = response.details();
  out.grpc = response.grpc();
  return out;
}

}  // namespace gatehouse::authorize::proto
