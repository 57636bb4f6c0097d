#pragma once
// The decision, in process: reads the session a request carries, evaluates
// the route's policy, and answers with the identity headers to forward or
// the response to send (sign-in redirect, 401, 403, ...), as Pomerium's
// authorize service does. The proxy calls it directly in all-in-one mode;
// the authorize gRPC service calls it for proxies in other processes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "authorize/client.h"
#include "authorize/engine.h"
#include "authorize/jwt_cache.h"
#include "common/result.h"
#include "config/options.h"
#include "crypto/signed_url.h"
#include "session/cache.h"
#include "session/handle.h"

namespace gatehouse::authorize {

// What one configuration generation needs for decisions. Immutable.
class State {
 public:
  // Builds the policies (reusing those of `previous` for unchanged routes)
  // and the keys. Errors name the key or the route.
  static Result<std::shared_ptr<const State>> create(std::shared_ptr<const config::Options> options,
                                                     const State* previous);

  const Engine& engine() const { return *engine_; }
  std::shared_ptr<const Engine> enginePointer() const { return engine_; }
  const config::Options& options() const { return *options_; }
  // The route's index in this configuration, by id; -1 if it has none.
  int routeIndex(std::string_view id) const;
  const std::string& routeIdpId(size_t index) const { return route_idp_ids_[index]; }
  // The shared secret's session-handle codec and URL signer.
  std::shared_ptr<const session::HandleCodec> handles() const { return handles_; }
  std::shared_ptr<const crypto::SignedUrl> signer() const { return signer_; }

 private:
  friend class Service;
  State() = default;

  std::shared_ptr<const config::Options> options_;
  std::shared_ptr<const Engine> engine_;
  std::shared_ptr<const session::HandleCodec> handles_;
  std::shared_ptr<const crypto::SignedUrl> signer_;
  std::vector<std::string> route_idp_ids_;
  std::unordered_map<std::string, size_t> route_by_id_;
  bool sign_in_configured_ = false;
  bool jwt_endpoint_ = false;
  bool routes_portal_ = true;
};

// One per event loop (it keeps that loop's identity JWT cache).
class Service final : public Client {
 public:
  // `state` gives the current configuration; `sessions` the local copy of
  // sessions (null: no request has a session).
  Service(std::function<std::shared_ptr<const State>()> state, session::Cache* sessions);

  Task<CheckResponse> check(const CheckRequest& request) override;
  // Decides with a given configuration (the proxy's own, so that the route
  // index it matched is valid).
  Task<CheckResponse> check(const CheckRequest& request, const State& state);
  // Any request but the pages that show the session (request.internal),
  // when its session is in the local copy or it has none.
  std::optional<CheckResponse> checkNow(const CheckRequest& request) override;

 private:
  Task<CheckResponse> decide(const CheckRequest& request, std::shared_ptr<const State> held);
  struct Loaded;
  // The route a (non-internal) request is decided with; -1 if this
  // configuration has none by its id.
  static int routeOf(const CheckRequest& request, const State& state);
  // The decision once the session is loaded; never waits.
  CheckResponse decideLoaded(const CheckRequest& request, const State& state, int route,
                             const Loaded& loaded);
  Task<void> loadSession(const CheckRequest& request, const State& state, int route, Loaded& out);
  // loadSession without waiting, which is nearly always possible; false
  // when a handle is newer than the local copy of sessions (then `out` is
  // to be filled by loadSession).
  bool loadSessionLocally(const CheckRequest& request, const State& state, int route, Loaded& out);
  CheckResponse loginRedirect(const CheckRequest& request, const State& state, int route);
  std::string signedSignInUrl(const State& state, int route, const std::string& redirect_uri,
                              std::chrono::system_clock::time_point now) const;
  CheckResponse unauthenticated(const CheckRequest& request, const State& state, int route,
                                bool from_header, std::string details);
  Task<CheckResponse> internal(const CheckRequest& request, const State& state);
  CheckResponse userPage(const State& state, const session::Loaded* s, std::string_view host,
                         bool json) const;
  CheckResponse routesPortal(const CheckRequest& request, const State& state,
                             const session::Loaded& s, bool json) const;

  // Verifying a handle (HMAC, base64, JSON) is most of a signed-in
  // request's cost; the same cookie comes again and again, so the handles
  // this loop verified are kept, keyed by their exact text.
  std::shared_ptr<const session::Handle> verifiedHandle(const State& state, std::string_view text);
  // The same, borrowed: valid until the next call of either.
  const session::Handle* verifiedHandleNow(const State& state, std::string_view text);

  // Hashes the last 32 bytes only: a handle ends in its HMAC, which differs
  // from one handle to the next, and a lookup still compares the whole
  // text. Only verified handles are stored, so no one without the secret
  // can fill a bucket.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text.substr(text.size() > 32 ? text.size() - 32 : 0));
    }
  };
  std::function<std::shared_ptr<const State>()> state_;
  session::Cache* sessions_;
  // This loop's lock-free view of the sessions its requests use.
  session::WorkerView session_view_;
  JwtCache jwt_cache_;
  std::unordered_map<std::string, std::shared_ptr<const session::Handle>, TextHash, std::equal_to<>>
      verified_;
  const session::HandleCodec* verified_codec_ = nullptr;
  // loadSessionLocally()'s list of handle texts, kept for the next request.
  std::vector<std::string_view> local_candidates_;

  // Route `route`'s decision for `input`, whose session is the view
  // `view` (0: none or unknown). A policy that reads only the session
  // (Engine::decidesBySessionOnly) decides the same for every request of a
  // session view, which changes whenever its session or user record does:
  // its decisions are kept by engine, route and view, and a user's next
  // request on the route is not evaluated again.
  policy::Decision evaluate(const State& state, size_t route, const policy::Input& input,
                            uint64_t view);
  struct Decided {
    uint64_t engine = 0;  // Engine::id(); 0: empty
    uint64_t view = 0;
    size_t route = 0;
    policy::Decision decision;
  };
  // Direct-mapped (a decision replaces the one in its place), allocated on
  // first use.
  static constexpr unsigned kDecidedBits = 9;
  std::vector<Decided> decided_;

  // The sign-in redirect signs its URL with the second it was issued in,
  // so within one second the same URL gives the same answer: this loop
  // keeps the answers of the current second (keyed by route and URL) and
  // signs each URL at most once a second however many requests ask.
  struct Redirect {
    std::string location;
    std::string body;
  };
  std::unordered_map<std::string, Redirect, TextHash, std::equal_to<>> redirects_;
  int64_t redirects_second_ = 0;
  // Held so that the signer (one per configuration) cannot be replaced by
  // another at the same address while answers it signed are kept.
  std::shared_ptr<const crypto::SignedUrl> redirects_signer_;
  std::string redirect_key_;  // scratch
};

// Where a request's session handle may be (Pomerium's order): the session
// cookie, X-Pomerium-Authorization, Authorization: Pomerium <jwt> and
// Authorization: Bearer Pomerium-<jwt>. `from_header` tells whether any
// came from a header (a programmatic client).
void sessionCandidates(const RequestHeaders& headers, std::string_view cookie_name,
                       std::vector<std::string_view>& out, bool& from_header);

}  // namespace gatehouse::authorize
