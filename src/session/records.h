#pragma once
// The session and user records that sign-in writes to the databroker and
// authorize reads back (Pomerium's session.Session and user.User), with
// the field names of those messages' JSON form. The record's type names
// the message; the data carries no "@type", so that it travels between
// processes as a plain JSON object (google.protobuf.Struct).

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "databroker/record.h"

namespace gatehouse::session {

using Time = std::chrono::system_clock::time_point;

inline constexpr std::string_view kSessionType = "type.googleapis.com/session.Session";
inline constexpr std::string_view kUserType = "type.googleapis.com/user.User";

struct OAuthToken {
  std::string access_token;
  std::string refresh_token;
  std::string token_type;
  Time expires_at{};  // epoch = unknown
  bool operator==(const OAuthToken&) const = default;
};

struct Session {
  std::string id;
  std::string user_id;
  std::string idp_id;
  Time issued_at{};
  Time
      expires_at{};  // now + cookie_expire at sign-in; the session ends then, whatever the IdP says
  Time accessed_at{};
  Time refreshed_at{};  // last successful token refresh (epoch = never)
  OAuthToken oauth_token;
  std::string id_token;  // raw ID token, for sign-out's id_token_hint and templates
  Time id_token_expires_at{};
  // Every claim as a list of values, as Pomerium flattens them.
  nlohmann::json claims = nlohmann::json::object();
  std::vector<std::string> audience;

  // Not expired at `now`: before expires_at, and not holding an expired
  // access token that cannot be refreshed (Pomerium's Session.Validate).
  bool valid(Time now) const {
    if (now >= expires_at) return false;
    bool token_expired =
        oauth_token.expires_at.time_since_epoch().count() != 0 && now >= oauth_token.expires_at;
    return !(token_expired && oauth_token.refresh_token.empty());
  }

  std::string toJson() const;
  static Result<Session> fromJson(std::string_view json);
};

// The times at which something can happen to a session without a
// request: what the refresher picks by, and all that the session copy
// keeps of a session no request uses.
struct Schedule {
  Time issued_at{};
  Time expires_at{};
  Time refreshed_at{};         // epoch = never
  Time token_expires_at{};     // the access token's; epoch = unknown
  Time id_token_expires_at{};  // epoch = unknown
  bool refreshable = false;    // holds a refresh token
  bool operator==(const Schedule&) const = default;

  static Schedule of(const Session& s);
  // The schedule of a session record's JSON, read without building the
  // record: no allocation per field, no claims tree. Accepts and refuses
  // exactly what Session::fromJson does, and gives what
  // Schedule::of(Session::fromJson(json)) would.
  static Result<Schedule> fromJson(std::string_view json);
};

struct User {
  std::string id;
  std::string name;
  std::string email;
  nlohmann::json claims = nlohmann::json::object();

  std::string toJson() const;
  static Result<User> fromJson(std::string_view json);
};

// The databroker records that store a session or user, and the one that
// deletes a session (sign-out, a refused refresh, expiry).
databroker::Record toRecord(const Session& session);
databroker::Record toRecord(const User& user);
databroker::Record sessionDeletion(std::string session_id);

// Claims from an ID token / userinfo reply, flattened as Pomerium stores
// them: every value becomes a list ("email": ["a@b"]), nested objects keep
// their shape inside the list.
nlohmann::json flattenClaims(const nlohmann::json& claims);

// The first string value of a flattened claim, or "".
std::string firstClaim(const nlohmann::json& claims, std::string_view name);

// RFC 3339 with microseconds, UTC ("2026-01-02T03:04:05.123456Z"), and back.
std::string formatTime(Time t);
std::optional<Time> parseTime(std::string_view text);

}  // namespace gatehouse::session
