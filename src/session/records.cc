#include "session/records.h"

#include <cstdio>
#include <ctime>

namespace gatehouse::session {
namespace {

using nlohmann::json;

bool isSet(Time t) { return t.time_since_epoch().count() != 0; }

void putTime(json& out, const char* name, Time t) {
  if (isSet(t)) out[name] = formatTime(t);
}

Result<Time> getTime(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) return Time{};
  if (!it->is_string()) return Error::invalid(std::string(name) + ": expected a timestamp");
  auto t = parseTime(it->get_ref<const std::string&>());
  if (!t) return Error::invalid(std::string(name) + ": invalid timestamp");
  return *t;
}

std::string getString(const json& in, const char* name) {
  auto it = in.find(name);
  return it != in.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<json> parseObject(std::string_view text, std::string_view type) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return Error::invalid("record data is not a JSON object");
  auto t = doc.find("@type");
  if (t != doc.end() && (!t->is_string() || t->get_ref<const std::string&>() != type)) {
    return Error::invalid("record data is not a " + std::string(type));
  }
  return doc;
}

}  // namespace

std::string formatTime(Time t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  long fraction = static_cast<long>(micros % 1000000);
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
  return buffer;
}

std::optional<Time> parseTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (text.size() < 20 || text.size() > 40 || text.back() != 'Z') return std::nullopt;
  auto digits = [&](size_t pos, size_t n, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' ||
      !digits(8, 2, day) || text[10] != 'T' || !digits(11, 2, hour) || text[13] != ':' ||
      !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  long micros = 0;
  size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    int places = 0;
    while (pos < text.size() - 1) {
      char c = text[pos++];
      if (c < '0' || c > '9') return std::nullopt;
      if (places < 6) {
        micros = micros * 10 + (c - '0');
        ++places;
      }
    }
    if (places == 0) return std::nullopt;
    while (places++ < 6) micros *= 10;
  } else if (pos != text.size() - 1) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok()) return std::nullopt;
  auto days = std::chrono::sys_days(ymd);
  return Time(std::chrono::duration_cast<Time::duration>(
      days.time_since_epoch() + std::chrono::hours(hour) + std::chrono::minutes(minute) +
      std::chrono::seconds(second) + std::chrono::microseconds(micros)));
}

namespace {
databroker::Record makeRecord(std::string_view type, std::string id, std::string data) {
  databroker::Record r;
  r.type = std::string(type);
  r.id = std::move(id);
  r.data = std::move(data);
  return r;
}
}  // namespace

databroker::Record toRecord(const Session& session) {
  return makeRecord(kSessionType, session.id, session.toJson());
}

databroker::Record toRecord(const User& user) {
  return makeRecord(kUserType, user.id, user.toJson());
}

databroker::Record sessionDeletion(std::string session_id) {
  databroker::Record r = makeRecord(kSessionType, std::move(session_id), "{}");
  r.deleted_at = databroker::now();
  return r;
}

nlohmann::json flattenClaims(const nlohmann::json& claims) {
  json out = json::object();
  if (!claims.is_object()) return out;
  for (auto& [name, value] : claims.items()) {
    if (value.is_null()) continue;
    out[name] = value.is_array() ? value : json::array({value});
  }
  return out;
}

std::string firstClaim(const nlohmann::json& claims, std::string_view name) {
  if (!claims.is_object()) return {};
  auto it = claims.find(name);
  if (it == claims.end()) return {};
  const json& value = *it;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array() && !value.empty() && value.front().is_string()) {
    return value.front().get<std::string>();
  }
  return {};
}

std::string Session::toJson() const {
  json out = json::object();
  out["id"] = id;
  out["userId"] = user_id;
  if (!idp_id.empty()) out["idpId"] = idp_id;
  putTime(out, "issuedAt", issued_at);
  putTime(out, "expiresAt", expires_at);
  putTime(out, "accessedAt", accessed_at);
  putTime(out, "refreshedAt", refreshed_at);
  json token = json::object();
  if (!oauth_token.access_token.empty()) token["accessToken"] = oauth_token.access_token;
  if (!oauth_token.refresh_token.empty()) token["refreshToken"] = oauth_token.refresh_token;
  if (!oauth_token.token_type.empty()) token["tokenType"] = oauth_token.token_type;
  putTime(token, "expiresAt", oauth_token.expires_at);
  out["oauthToken"] = std::move(token);
  if (!id_token.empty()) {
    json idt = json::object();
    idt["raw"] = id_token;
    putTime(idt, "expiresAt", id_token_expires_at);
    out["idToken"] = std::move(idt);
  }
  out["claims"] = claims.is_object() ? claims : json::object();
  if (!audience.empty()) out["audience"] = audience;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Session> Session::fromJson(std::string_view text) {
  auto doc = parseObject(text, kSessionType);
  if (!doc) return doc.error();
  Session s;
  s.id = getString(*doc, "id");
  s.user_id = getString(*doc, "userId");
  s.idp_id = getString(*doc, "idpId");
  for (auto [name, field] : {std::pair{"issuedAt", &s.issued_at},
                             {"expiresAt", &s.expires_at},
                             {"accessedAt", &s.accessed_at},
                             {"refreshedAt", &s.refreshed_at}}) {
    auto t = getTime(*doc, name);
    if (!t) return t.error();
    *field = *t;
  }
  if (auto token = doc->find("oauthToken"); token != doc->end() && token->is_object()) {
    s.oauth_token.access_token = getString(*token, "accessToken");
    s.oauth_token.refresh_token = getString(*token, "refreshToken");
    s.oauth_token.token_type = getString(*token, "tokenType");
    auto t = getTime(*token, "expiresAt");
    if (!t) return t.error();
    s.oauth_token.expires_at = *t;
  }
  if (auto idt = doc->find("idToken"); idt != doc->end() && idt->is_object()) {
    s.id_token = getString(*idt, "raw");
    auto t = getTime(*idt, "expiresAt");
    if (!t) return t.error();
    s.id_token_expires_at = *t;
  }
  if (auto claims = doc->find("claims"); claims != doc->end() && claims->is_object()) {
    s.claims = std::move(*claims);
  }
  if (auto aud = doc->find("audience"); aud != doc->end() && aud->is_array()) {
    for (auto& a : *aud) {
      if (a.is_string()) s.audience.push_back(a.get<std::string>());
    }
  }
  if (s.id.empty()) return Error::invalid("session record without an id");
  return s;
}

std::string User::toJson() const {
  json out = json::object();
  out["id"] = id;
  if (!name.empty()) out["name"] = name;
  if (!email.empty()) out["email"] = email;
  out["claims"] = claims.is_object() ? claims : json::object();
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<User> User::fromJson(std::string_view text) {
  auto doc = parseObject(text, kUserType);
  if (!doc) return doc.error();
  User u;
  u.id = getString(*doc, "id");
  u.name = getString(*doc, "name");
  u.email = getString(*doc, "email");
  if (auto claims = doc->find("claims"); claims != doc->end() && claims->is_object()) {
    u.claims = std::move(*claims);
  }
  if (u.id.empty()) return Error::invalid("user record without an id");
  return u;
}

}  // namespace gatehouse::session
