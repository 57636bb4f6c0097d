#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "config/yaml_node.h"

namespace gatehouse::config {

using Environment = std::map<std::string, std::string>;

struct LoadResult {
  std::optional<Options> options;    // set exactly when errors is empty
  std::vector<std::string> errors;   // one line per problem, each naming the key: "routes[2].to: ..."
  std::vector<std::string> warnings; // unknown keys, generated secrets, ...
  // The parsed document, still held: freeing the tree of a large file
  // takes a while, so a reload lets it go once the new configuration is
  // serving.
  YamlNode document;
};

// The process environment as a map (for the upper-case key overrides).
Environment processEnvironment();

// Reads a YAML or JSON config file, applies environment overrides (every key
// as its upper-case name; POLICY as base64 YAML routes; lists as comma
// strings), validates everything and resolves the files it names (relative
// paths against the config file's directory). Never throws.
LoadResult loadFile(const std::string& path, const Environment& env);

// Same, from text; `base_dir` resolves relative file paths. Used by tests,
// the fuzzer and `loadFile`.
LoadResult loadText(std::string_view text, const std::string& base_dir, const Environment& env);

}  // namespace gatehouse::config
