#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "policy/policy.h"

namespace gatehouse::policy::testing {

inline config::Environment secretsEnv() {
  return {{"SHARED_SECRET", "U2hhcmVkU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE="},
          {"COOKIE_SECRET", "Q29va2llU2VjcmV0Rm9yVGhlRXhhbXBsZUNvbmZpZyE="}};
}

inline std::string indent(std::string_view text, std::string_view prefix) {
  std::string out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out += std::string(prefix) + line + "\n";
  return out;
}

// Loads a config with one route whose other keys are `route_keys` (YAML,
// unindented), and returns that route.
inline std::optional<config::Route> loadRoute(std::string_view route_keys,
                                              std::vector<std::string>* errors = nullptr) {
  std::string text =
      "routes:\n  - from: https://app.example.com\n    to: http://upstream.internal\n" +
      indent(route_keys, "    ");
  config::LoadResult result = config::loadText(text, "/nonexistent", secretsEnv());
  if (errors != nullptr) *errors = result.errors;
  if (!result.options || result.options->routes.empty()) return std::nullopt;
  return result.options->routes.front();
}

// Compiles PPL written as YAML, passing through the config loader exactly as
// a route's `policy` key does.
inline Result<Policy> compileYaml(std::string_view ppl_yaml, const CompileOptions& options = {}) {
  std::vector<std::string> errors;
  auto route = loadRoute("policy:\n" + indent(ppl_yaml, "  "), &errors);
  if (!route) {
    std::string message = "config rejected the route:";
    for (const auto& e : errors) message += " " + e;
    return Error::invalid(message);
  }
  return Policy::compile(*route, options);
}

inline Policy compileOk(std::string_view ppl_yaml, const CompileOptions& options = {}) {
  auto policy = compileYaml(ppl_yaml, options);
  if (!policy) {
    ADD_FAILURE() << "policy did not compile: " << policy.error().message << "\n" << ppl_yaml;
    return compileYaml("allow: {and: [{reject: true}]}").value();
  }
  return std::move(*policy);
}

// The compile error for a policy that must not compile.
inline std::string compileError(std::string_view ppl_yaml, const CompileOptions& options = {}) {
  auto policy = compileYaml(ppl_yaml, options);
  if (policy) {
    ADD_FAILURE() << "policy compiled but should not have:\n" << ppl_yaml;
    return "";
  }
  return policy.error().message;
}

// Owns everything an Input points at.
struct Request {
  std::string method = "GET";
  std::string path = "/";
  std::string host = "app.example.com";
  std::string source_ip;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::system_clock::time_point now{};
  // client certificate
  bool cert_presented = false;
  bool cert_valid = false;
  std::string cert_fingerprint;
  std::string cert_spki;
  std::vector<std::string> san_dns;
  std::vector<std::string> san_email;
  std::vector<std::string> san_uri;
  // session
  bool authenticated = false;
  std::string user_id;
  std::string email;
  nlohmann::json claims;  // null = none
  std::vector<std::string> groups;

  // A signed-in user.
  static Request user(std::string email, std::string user_id = "user-1") {
    Request r;
    r.authenticated = true;
    r.email = std::move(email);
    r.user_id = std::move(user_id);
    return r;
  }

  const Input& input() {
    header_views_.clear();
    for (const auto& [name, value] : headers) header_views_.emplace_back(name, value);
    header_list_ = HeaderList(header_views_);
    input_ = Input{};
    auto& q = input_.request;
    q.method = method;
    q.path = path;
    q.host = host;
    q.source_ip = source_ip.empty() ? std::nullopt : IpAddress::parse(source_ip);
    q.headers = &header_list_;
    q.now = now;
    q.client_certificate = {cert_presented, cert_valid, cert_fingerprint, cert_spki,
                            san_dns,        san_email,  san_uri};
    auto& s = input_.session;
    s.authenticated = authenticated;
    s.user_id = user_id;
    s.email = email;
    s.claims = claims.is_null() ? nullptr : &claims;
    s.groups = groups;
    return input_;
  }

 private:
  std::vector<HeaderList::Header> header_views_;
  HeaderList header_list_;
  Input input_;
};

inline std::vector<std::string> names(Reasons reasons) {
  std::vector<std::string> out;
  for (auto name : reasons.strings()) out.emplace_back(name);
  return out;
}

using Names = std::vector<std::string>;

// A UTC instant: utc(2024, 3, 10, 6, 59, 59).
inline std::chrono::system_clock::time_point utc(int y, unsigned mo, unsigned d, int h = 0,
                                                 int mi = 0, int s = 0) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

}  // namespace gatehouse::policy::testing
