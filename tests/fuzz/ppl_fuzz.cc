// Fuzzes the policy compiler and evaluator with arbitrary text, read three
// ways: as a PPL document in JSON, as a whole YAML/JSON config whose routes
// carry policies (the path a policy really takes), and, when it starts with
// "TZif", as a time zone file. A compiled policy is evaluated against a few
// fixed requests. Compiling must never crash or throw; evaluation must be
// deterministic and its decision consistent.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "policy/policy.h"
#include "policy/time_zone.h"

namespace {

using gatehouse::policy::Decision;
using gatehouse::policy::HeaderList;
using gatehouse::policy::Input;
using gatehouse::policy::IpAddress;
using gatehouse::policy::Policy;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant violated: %s\n  %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

struct Fixtures {
  std::vector<HeaderList::Header> header_pairs = {{"Origin", "https://other.example.com"},
                                                  {"Access-Control-Request-Method", "PUT"}};
  HeaderList headers{header_pairs};
  nlohmann::json claims = {{"groups", {"admins", "devs"}},
                           {"email_verified", true},
                           {"address", {{"country", "FR"}}},
                           {"example.com/role", {"owner"}}};
  std::vector<std::string> groups = {"admins", "g-123"};
  std::vector<std::string> sans = {"client.internal", "alice@example.com"};
  std::vector<Input> inputs;

  Fixtures() {
    Input anonymous;
    anonymous.request.method = "OPTIONS";
    anonymous.request.path = "/";
    anonymous.request.headers = &headers;
    anonymous.request.source_ip = IpAddress::parse("192.0.2.1");
    anonymous.request.now = std::chrono::system_clock::time_point(std::chrono::seconds(1709737200));
    inputs.push_back(anonymous);

    Input user = anonymous;
    user.request.method = "GET";
    user.request.path = "/api/v1/things";
    user.request.source_ip = IpAddress::parse("2001:db8::7");
    user.request.client_certificate = {
        true,
        true,
        "17859273e8a980631d367b2d5a6a6635412b0f22835f69e47b3f65624546a704",
        "FsDbM0rUYIiL3V339eIKqiz6HPSB+Pz2WeAWhqlqh8U=",
        sans,
        sans,
        sans};
    user.session.authenticated = true;
    user.session.user_id = "user-1";
    user.session.email = "alice@example.com";
    user.session.claims = &claims;
    user.session.groups = groups;
    inputs.push_back(user);

    Input odd = user;
    odd.session.email = "no-at-sign";
    odd.session.user_id = "";
    odd.request.source_ip.reset();
    odd.request.headers = nullptr;
    odd.request.client_certificate = {true, false, "", "", {}, {}, {}};
    odd.request.now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 80));
    inputs.push_back(odd);
  }
};

const Fixtures& fixtures() {
  static const Fixtures f;
  return f;
}

void exercise(const Policy& policy, std::string_view text) {
  for (const Input& input : fixtures().inputs) {
    Decision d = policy.evaluate(input);
    Decision again = policy.evaluate(input);
    if (d.allow != again.allow || d.deny != again.deny || !(d.reasons == again.reasons)) {
      fail("evaluation is not deterministic", text);
    }
    if (!(d.reasons == (d.allow_reasons | d.deny_reasons))) fail("reasons are not the union", text);
    if (d.allowed() != (d.allow && !d.deny)) fail("allowed() disagrees with allow/deny", text);
    if (policy.criterionCount() == 0 && (d.allow || d.deny || !d.reasons.empty())) {
      fail("an empty policy decided something", text);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // 1. A PPL document as JSON.
  auto direct = Policy::compileDocument(text, "fuzz");
  if (direct) {
    exercise(*direct, text);
  } else if (direct.error().message.rfind("fuzz", 0) != 0) {
    fail("error does not say where", direct.error().message);
  }

  // 2. A config whose routes carry policies (YAML or JSON).
  gatehouse::config::LoadResult loaded = gatehouse::config::loadText(text, "/nonexistent", {});
  if (loaded.options) {
    for (const auto& route : loaded.options->routes) {
      gatehouse::policy::CompileOptions options;
      options.deny_invalid_client_certificate = (route.index % 2) == 1;
      auto policy = Policy::compile(route, options);
      if (policy) {
        exercise(*policy, text);
      } else if (policy.error().message.rfind("routes[", 0) != 0) {
        fail("error does not name the route", policy.error().message);
      }
    }
  }

  // 3. A time zone file.
  if (text.substr(0, 4) == "TZif") {
    auto zone = gatehouse::policy::TimeZone::fromTzif("fuzz", text);
    if (zone) {
      for (int64_t t : {INT64_C(-5000000000), INT64_C(0), INT64_C(1709737200), INT64_C(4102444800),
                        INT64_C(253402300799)}) {
        auto offset = (*zone)->offsetAt(std::chrono::sys_seconds(std::chrono::seconds(t)));
        if (offset.count() < -26 * 3600 || offset.count() > 26 * 3600) {
          fail("offset out of range", text.substr(0, 64));
        }
      }
    }
  }
  return 0;
}
