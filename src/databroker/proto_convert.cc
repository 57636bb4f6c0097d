#include "databroker/proto_convert.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace gatehouse::databroker::proto {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kStructType = "type.googleapis.com/google.protobuf.Struct";

int64_t micros(Timestamp t) { return t.time_since_epoch().count(); }

void toProto(Timestamp t, google::protobuf::Timestamp& out) {
  int64_t us = micros(t);
  int64_t seconds = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>((us - seconds * 1000000) * 1000));
}

Timestamp fromProto(const google::protobuf::Timestamp& in) {
  return Timestamp(std::chrono::microseconds(in.seconds() * 1000000 + in.nanos() / 1000));
}

}  // namespace

Result<std::string> anyToJson(const google::protobuf::Any& any) {
  if (any.type_url().empty()) return std::string("{}");
  if (any.type_url() == kStructType) {
    google::protobuf::Struct value;
    if (!any.UnpackTo(&value)) return Error::invalid("data: malformed google.protobuf.Struct");
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) {
      return Error::invalid("data: cannot convert to JSON");
    }
    return normalizeData(json);
  }
  std::string json;
  if (google::protobuf::util::MessageToJsonString(any, &json).ok()) return normalizeData(json);
  // A message type this process does not know: keep its bytes.
  Json opaque = {{"@type", any.type_url()}, {"@bytes", base64Encode(any.value())}};
  return opaque.dump();
}

Result<void> jsonToAny(std::string_view json, google::protobuf::Any& any) {
  Json value = Json::parse(json.empty() ? std::string_view("{}") : json, nullptr, false);
  if (value.is_discarded() || !value.is_object()) return Error::invalid("data: not a JSON object");
  if (!value.contains("@type")) {
    google::protobuf::Struct message;
    if (!google::protobuf::util::JsonStringToMessage(std::string(json.empty() ? "{}" : json),
                                                     &message)
             .ok()) {
      return Error::invalid("data: cannot convert to google.protobuf.Struct");
    }
    any.PackFrom(message);
    return {};
  }
  if (value.size() == 2 && value.contains("@bytes") && value["@type"].is_string() &&
      value["@bytes"].is_string()) {
    auto bytes = base64Decode(value["@bytes"].get<std::string>());
    if (!bytes) return Error::invalid("data: @bytes is not base64");
    any.set_type_url(value["@type"].get<std::string>());
    any.set_value(std::move(*bytes));
    return {};
  }
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &any).ok()) {
    return Error::invalid("data: cannot convert the JSON of its @type to a message");
  }
  return {};
}

Result<Record> fromProto(const ::databroker::Record& in) {
  Record out;
  out.type = in.type();
  out.id = in.id();
  out.version = in.version();
  auto data = anyToJson(in.data());
  if (!data) return data.error();
  out.data = std::move(*data);
  if (in.has_modified_at()) out.modified_at = fromProto(in.modified_at());
  if (in.has_deleted_at()) out.deleted_at = fromProto(in.deleted_at());
  return out;
}

Result<std::vector<Record>> fromProto(
    const google::protobuf::RepeatedPtrField<::databroker::Record>& in) {
  std::vector<Record> out;
  out.reserve(static_cast<size_t>(in.size()));
  for (int i = 0; i < in.size(); ++i) {
    auto record = fromProto(in.Get(i));
    if (!record) {
      Error error = record.error();
      error.message = "records[" + std::to_string(i) + "]." + error.message;
      return error;
    }
    out.push_back(std::move(*record));
  }
  return out;
}

Result<void> toProto(const Record& in, ::databroker::Record& out) {
  out.set_type(in.type);
  out.set_id(in.id);
  out.set_version(in.version);
  if (auto packed = jsonToAny(in.data, *out.mutable_data()); !packed) return packed;
  toProto(in.modified_at, *out.mutable_modified_at());
  if (in.deleted_at) toProto(*in.deleted_at, *out.mutable_deleted_at());
  return {};
}

TypeOptions fromProto(const ::databroker::Options& in) {
  TypeOptions out;
  if (in.has_capacity()) out.capacity = in.capacity();
  if (in.has_ttl()) out.ttl = fromProto(in.ttl());
  out.indexed_fields.assign(in.indexable_fields().begin(), in.indexable_fields().end());
  return out;
}

void toProto(const TypeOptions& in, ::databroker::Options& out) {
  if (in.capacity) out.set_capacity(*in.capacity);
  if (in.ttl) toProto(*in.ttl, *out.mutable_ttl());
  for (const auto& field : in.indexed_fields) out.add_indexable_fields(field);
}

Duration fromProto(const google::protobuf::Duration& in) {
  return std::chrono::seconds(in.seconds()) + std::chrono::nanoseconds(in.nanos());
}

void toProto(Duration in, google::protobuf::Duration& out) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(in);
  out.set_seconds(seconds.count());
  out.set_nanos(static_cast<int32_t>((in - seconds).count()));
}

Result<std::map<std::string, std::string>> filterFromProto(const google::protobuf::Struct& in) {
  std::map<std::string, std::string> out;
  for (const auto& [field, value] : in.fields()) {
    switch (value.kind_case()) {
      case google::protobuf::Value::kStringValue:
        out[field] = value.string_value();
        break;
      case google::protobuf::Value::kBoolValue:
        out[field] = value.bool_value() ? "true" : "false";
        break;
      case google::protobuf::Value::kNumberValue: {
        double number = value.number_value();
        if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9.0e15) {
          out[field] = std::to_string(static_cast<int64_t>(number));
        } else {
          out[field] = Json(number).dump();
        }
        break;
      }
      default:
        return Error::invalid("filter." + field + ": must be a string, number or boolean");
    }
  }
  return out;
}

void filterToProto(const std::map<std::string, std::string>& in, google::protobuf::Struct& out) {
  for (const auto& [field, value] : in) (*out.mutable_fields())[field].set_string_value(value);
}

grpc::Status toStatus(const Error& error) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ErrorCode::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case ErrorCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case ErrorCode::kTimeout:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    case ErrorCode::kAborted:
      code = grpc::StatusCode::ABORTED;
      break;
    case ErrorCode::kUnauthenticated:
      code = grpc::StatusCode::UNAUTHENTICATED;
      break;
    case ErrorCode::kAlreadyExists:
      code = grpc::StatusCode::ALREADY_EXISTS;
      break;
    case ErrorCode::kTooLarge:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case ErrorCode::kProtocol:
    case ErrorCode::kClosed:
    case ErrorCode::kInternal:
      code = grpc::StatusCode::INTERNAL;
      break;
  }
  return grpc::Status(code, error.message);
}

Error fromStatus(const grpc::Status& status) {
  Error error;
  error.source = ErrorSource::kUpstream;
  error.message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      error.code = ErrorCode::kInvalidArgument;
      break;
    case grpc::StatusCode::NOT_FOUND:
      error.code = ErrorCode::kNotFound;
      break;
    case grpc::StatusCode::ABORTED:
      error.code = ErrorCode::kAborted;
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      error.code = ErrorCode::kUnauthenticated;
      break;
    case grpc::StatusCode::ALREADY_EXISTS:
      error.code = ErrorCode::kAlreadyExists;
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      error.code = ErrorCode::kTooLarge;
      break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
      error.code = ErrorCode::kUnavailable;
      error.retryable = true;
      if (error.message.empty()) error.message = "databroker unavailable";
      break;
    default:
      error.code = ErrorCode::kInternal;
      break;
  }
  return error;
}

}  // namespace gatehouse::databroker::proto
