#include "config/loader.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/base64.h"
#include "common/file.h"
#include "common/strings.h"
#include "config/options_builder.h"
#include "config/parse_context.h"

extern char** environ;  // NOLINT: POSIX

namespace gatehouse::config {
namespace {

constexpr size_t kMaxConfigBytes = size_t{16} * 1024 * 1024;

std::string toUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

// A top-level key's effective value, from the file or the environment.
struct Entry {
  std::string key;  // lower-case
  Value value;
  std::string env_name;  // set when the value came from the environment
};

// Turns an environment value into a YAML node of the shape its key expects.
// Scalars stay text (the typed readers split comma lists and parse JSON
// header maps); structured keys take JSON or YAML text.
std::optional<YamlNode> nodeFromEnvironment(ParseContext& ctx, std::string_view key, KeyShape shape,
                                            const std::string& env_name, const std::string& text) {
  if (shape == KeyShape::kScalar) return YamlNode::fromText(text);
  std::string document = text;
  if (shape == KeyShape::kRoutes) {
    // `base64 file` wraps its output at 76 columns; Go's decoder skips the
    // newlines, so this one does too.
    std::string compact;
    for (char c : text) {
      if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
    }
    auto decoded = base64Decode(compact);
    if (!decoded) {
      ctx.error(key, "environment variable " + env_name + " is not valid base64");
      return std::nullopt;
    }
    document = std::move(*decoded);
  }
  YamlParse parsed = YamlNode::parse(document);
  if (parsed.error) {
    ctx.error(key, "environment variable " + env_name + " is not valid YAML or JSON: line " +
                       std::to_string(parsed.error->line) + ": " + parsed.error->message);
    return std::nullopt;
  }
  // A plain word (not JSON) stays a string, e.g. CERTIFICATES=...
  return std::move(parsed.root);
}

// The top-level entries of the file, in file order, with the environment
// applied on top: an environment variable replaces the file's value.
std::vector<Entry> effectiveEntries(ParseContext& ctx, const YamlNode& root, const Environment& env,
                                    OptionsBuilder& builder) {
  std::vector<Entry> entries;
  for (auto& [key, item] : ctx.mapEntries(Value{root, ""})) {
    entries.push_back({key, Value{item.node, item.key}, ""});
  }
  auto find = [&](std::string_view key) {
    return std::find_if(entries.begin(), entries.end(),
                        [&](const Entry& e) { return e.key == key; });
  };
  auto put = [&](std::string_view key, const YamlNode& node, const std::string& env_name) {
    auto existing = find(key);
    if (existing != entries.end()) {
      existing->value.node = node;
      existing->env_name = env_name;
    } else {
      entries.push_back({std::string(key), Value{node, std::string(key)}, env_name});
    }
  };
  auto lookup = [&](const std::string& name) -> const std::string* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
  };

  for (const GlobalKeyInfo& info : globalKeys()) {
    if (info.shape == KeyShape::kRoutes) continue;  // below: POLICY / ROUTES
    // Later names win: HEADERS is Pomerium's name for set_response_headers
    // in the environment, GATEHOUSE_WORKERS the explicit one for workers.
    std::vector<std::string> names = {toUpper(info.name)};
    if (info.name == "set_response_headers") names.push_back("HEADERS");
    if (info.name == "workers") names.push_back("GATEHOUSE_WORKERS");
    for (const std::string& name : names) {
      const std::string* text = lookup(name);
      if (!text) continue;
      if (auto node = nodeFromEnvironment(ctx, info.name, info.shape, name, *text)) {
        put(info.name, *node, name);
      }
    }
  }

  // Nested keys bound field by field (DOWNSTREAM_MTLS_CA).
  for (const NestedKeyInfo& nested : nestedGlobalKeys()) {
    for (std::string_view field : nested.fields) {
      std::string name = toUpper(nested.name) + "_" + toUpper(field);
      const std::string* text = lookup(name);
      if (!text) continue;
      auto existing = find(nested.name);
      YamlNode map = existing != entries.end() && existing->value.node.isMap()
                         ? existing->value.node
                         : YamlNode::emptyMap();
      put(nested.name, map.withEntry(std::string(field), YamlNode::fromText(*text)), name);
    }
  }

  // POLICY (and ROUTES) replace the routes of the file, whichever key the
  // file used for them.
  const std::string* policy = lookup("POLICY");
  const std::string* routes = lookup("ROUTES");
  if (policy && routes) {
    ctx.error("routes", "set only one of the POLICY and ROUTES environment variables");
  } else if (policy || routes) {
    std::string name = policy ? "POLICY" : "ROUTES";
    std::string key = policy ? "policy" : "routes";
    if (auto node =
            nodeFromEnvironment(ctx, key, KeyShape::kRoutes, name, policy ? *policy : *routes)) {
      builder.setRoutesFromEnvironment(Value{*node, key});
    }
    entries.erase(
        std::remove_if(entries.begin(), entries.end(),
                       [](const Entry& e) { return e.key == "routes" || e.key == "policy"; }),
        entries.end());
  }
  return entries;
}

// An error about a key set in the environment says so, or the operator
// would search the file for it.
void noteEnvironmentSources(std::vector<std::string>& errors,
                            const std::map<std::string, std::string>& sources) {
  for (std::string& error : errors) {
    if (error.find("environment variable") != std::string::npos) continue;
    size_t end = error.find_first_of(":.[ ");
    if (end == std::string::npos) continue;
    auto it = sources.find(error.substr(0, end));
    if (it != sources.end()) error += " (from environment variable " + it->second + ")";
  }
}

LoadResult load(std::string_view text, const std::string& base_dir, const Environment& env,
                const std::string& source_name) {
  LoadResult result;
  ParseContext ctx(base_dir);
  YamlParse parsed = YamlNode::parse(text);
  if (parsed.error) {
    std::string prefix = source_name.empty() ? "" : source_name + ": ";
    result.errors.push_back(prefix + "syntax error at line " + std::to_string(parsed.error->line) +
                            ", column " + std::to_string(parsed.error->column) + ": " +
                            parsed.error->message);
    return result;
  }
  const YamlNode& root = parsed.root;
  if (root.isDefined() && !root.isNull() && !root.isMap()) {
    result.errors.push_back(
        "config: expected a map of settings at the top level, got a " +
        std::string(root.isSequence() ? "list" : "string") +
        (root.isSequence() ? " (a list of routes belongs under \"routes\")" : ""));
    return result;
  }

  OptionsBuilder builder(ctx);
  std::map<std::string, std::string> sources;
  std::vector<Entry> entries = effectiveEntries(ctx, root, env, builder);
  for (const Entry& entry : entries) {
    if (!entry.env_name.empty()) sources[entry.key] = entry.env_name;
    builder.apply(entry.key, entry.value);
  }
  if (env.count("POLICY")) sources["policy"] = "POLICY";
  if (env.count("ROUTES")) sources["routes"] = "ROUTES";
  Options options = builder.finish();

  result.errors = ctx.errors();
  result.warnings = ctx.warnings();
  noteEnvironmentSources(result.errors, sources);
  if (result.errors.empty()) result.options = std::move(options);
  result.document = std::move(parsed.root);
  return result;
}

}  // namespace

Environment processEnvironment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

LoadResult loadText(std::string_view text, const std::string& base_dir, const Environment& env) {
  try {
    return load(text, base_dir, env, "");
  } catch (const std::exception& e) {
    // A bug, not a config problem, but it must not take the process down
    // on a reload.
    LoadResult result;
    result.errors.push_back(std::string("config: internal error: ") + e.what());
    return result;
  } catch (...) {
    LoadResult result;
    result.errors.push_back("config: internal error");
    return result;
  }
}

LoadResult loadFile(const std::string& path, const Environment& env) {
  LoadResult failed;
  try {
    if (path.empty()) {
      std::error_code ec;
      std::string cwd = std::filesystem::current_path(ec).string();
      return load("", cwd, env, "");
    }
    std::filesystem::path file = std::filesystem::absolute(path);
    std::string extension = toLower(file.extension().string());
    if (extension == ".toml") {
      failed.errors.push_back(path + ": TOML is not supported; use YAML or JSON");
      return failed;
    }
    auto text = readRegularFile(file.string(), kMaxConfigBytes);
    if (!text) {
      failed.errors.push_back(path + ": cannot read config file: " + text.error().message);
      return failed;
    }
    return load(*text, file.parent_path().string(), env, path);
  } catch (const std::exception& e) {
    failed.errors.push_back(std::string("config: internal error: ") + e.what());
    return failed;
  } catch (...) {
    failed.errors.push_back("config: internal error");
    return failed;
  }
}

}  // namespace gatehouse::config
