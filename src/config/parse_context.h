#pragma once

// Shared state and typed readers for one config load. Every reader reports a
// problem as one line naming the key path ("routes[2].timeout: ...") and
// keeps going, so a single load lists every problem in the file at once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "config/options.h"
#include "config/yaml_node.h"

namespace gatehouse::config {

// A YAML value together with the key path it was found at, for messages.
struct Value {
  YamlNode node;
  std::string path;
};

// One entry of a YAML map, looked up by its lower-cased key: Pomerium reads
// keys case-insensitively (viper lower-cases them), so `Address:` works too.
struct MapEntry {
  std::string key;  // as written
  YamlNode node;
};

// How an accepted-but-unused key is checked and stored in an `extra` map.
enum class ExtraKind {
  kString,    // stored as written
  kBool,      // validated, stored as "true" / "false"
  kInt,       // validated, stored as written
  kDuration,  // validated Go duration, stored as written
  kList,      // list or comma string, stored comma-joined
  kPath,      // file path, stored absolute and watched (read by its user later)
  kAny,       // any YAML, stored as JSON text
};

class ParseContext {
 public:
  explicit ParseContext(std::string base_dir) : base_dir_(std::move(base_dir)) {}

  void error(std::string_view path, std::string_view message);
  void warn(std::string_view path, std::string_view message);
  void unknownKey(std::string_view path);

  const std::vector<std::string>& errors() const { return errors_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  std::vector<std::string>& mutableErrors() { return errors_; }
  std::vector<std::string> takeWatchedFiles() { return std::move(watched_files_); }

  // The entries of a map node in order, with keys lower-cased. Duplicate keys
  // are an error (YAML forbids them, and silently keeping one would hide a
  // mistake); a non-map node is an error unless it is null (an empty block).
  std::vector<std::pair<std::string, MapEntry>> mapEntries(const Value& value);

  // Scalar readers. A null node means "not set" and is never an error, so
  // `timeout_read:` with no value keeps the default.
  std::optional<std::string> readString(const Value& value);
  std::optional<bool> readBool(const Value& value);
  std::optional<uint64_t> readUint(const Value& value, uint64_t min, uint64_t max);
  std::optional<int64_t> readInt(const Value& value, int64_t min, int64_t max);
  std::optional<Duration> readDuration(const Value& value);
  // A list of strings: a sequence of scalars, or one comma-separated scalar
  // (Pomerium's "weak slice" rule, which is also how lists come from env).
  std::optional<std::vector<std::string>> readStringList(const Value& value);
  // A map of header name -> value: a YAML map, or a scalar holding a JSON
  // object or "K1:V1,K2:V2" (the form environment variables use). A later
  // duplicate (case-insensitive) replaces the earlier value.
  std::optional<std::vector<HeaderValue>> readHeaderMap(const Value& value);
  // Any YAML subtree as compact JSON text (PPL policies, opaque settings).
  std::optional<std::string> readJson(const Value& value);
  // A key kept for later in an `extra` map.
  std::optional<std::string> readExtra(const Value& value, ExtraKind kind);

  // Resolves `path` against the config file's directory.
  std::string resolvePath(std::string_view path) const;
  // Reads a file the config names, records it in watched_files and returns
  // its content; an unreadable file is an error naming the key and path.
  std::optional<std::string> readFile(std::string_view key_path, std::string_view path);
  // A value that may be a file path or inline base64 PEM (Pomerium accepts
  // both for certificates): a readable file wins, then base64 of PEM.
  std::optional<std::string> readPemFileOrBase64(std::string_view key_path, std::string_view value);
  // Base64-encoded PEM (`certificate`, `tls_custom_ca`, ...).
  std::optional<std::string> decodeBase64Pem(std::string_view key_path, std::string_view value);
  // Records a file path that is not read now but whose change matters.
  void watchFile(const std::string& absolute_path);

 private:
  std::optional<std::string> scalarText(const Value& value, std::string_view expected);

  std::string base_dir_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
  std::vector<std::string> watched_files_;
  // Bounds the work spent converting YAML to JSON: aliases can make a small
  // document expand exponentially ("billion laughs").
  size_t json_node_budget_ = 200000;
};

// A value as it appears in a message: quoted, control characters masked,
// cut at 80 characters.
std::string quote(std::string_view text);

// True when the text holds PEM data (at least one "-----BEGIN" line).
bool looksLikePem(std::string_view text);

}  // namespace gatehouse::config
