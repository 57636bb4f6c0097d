#pragma once

// Conversions between the databroker model and its protobuf messages, and
// between Error and grpc::Status. Included only by the gRPC service and
// client sources: protobuf and gRPC headers are slow to compile and must not
// reach the headers the proxy includes.

#include <grpcpp/support/status.h>

#include "databroker/record.h"
#include "proto/databroker.pb.h"

namespace gatehouse::databroker::proto {

// Record.data: JSON text <-> google.protobuf.Any. A JSON object without
// "@type" travels as a google.protobuf.Struct. Other messages are kept in
// their JSON form ("@type" plus fields) when the type is known here, and as
// {"@type": URL, "@bytes": base64} otherwise, so that they round-trip.
Result<std::string> anyToJson(const google::protobuf::Any& any);
Result<void> jsonToAny(std::string_view json, google::protobuf::Any& any);

Result<Record> fromProto(const ::databroker::Record& in);
Result<void> toProto(const Record& in, ::databroker::Record& out);
Result<std::vector<Record>> fromProto(
    const google::protobuf::RepeatedPtrField<::databroker::Record>& in);

TypeOptions fromProto(const ::databroker::Options& in);
void toProto(const TypeOptions& in, ::databroker::Options& out);

Duration fromProto(const google::protobuf::Duration& in);
void toProto(Duration in, google::protobuf::Duration& out);

// Struct filter -> field/value text; InvalidArgument for values that are not
// strings, numbers or booleans.
Result<std::map<std::string, std::string>> filterFromProto(const google::protobuf::Struct& in);
void filterToProto(const std::map<std::string, std::string>& in, google::protobuf::Struct& out);

grpc::Status toStatus(const Error& error);
// Transport failures (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, ...) become
// Unavailable: the caller retries later.
Error fromStatus(const grpc::Status& status);

}  // namespace gatehouse::databroker::proto
