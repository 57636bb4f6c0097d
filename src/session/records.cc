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

Schedule Schedule::of(const Session& s) {
  Schedule out;
  out.issued_at = s.issued_at;
  out.expires_at = s.expires_at;
  out.refreshed_at = s.refreshed_at;
  out.token_expires_at = s.oauth_token.expires_at;
  out.id_token_expires_at = s.id_token_expires_at;
  out.refreshable = !s.oauth_token.refresh_token.empty();
  return out;
}

namespace {

// Reads the schedule of a session record with nlohmann's SAX interface: the
// lexer's buffers only, no tree. Every field follows the DOM's rules
// (Session::fromJson): the last of duplicate keys wins, a missing or null
// time is the epoch, any other non-string time is an error, a non-object
// "oauthToken" or "idToken" counts as absent.
class ScheduleReader {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  // The result once the document parsed.
  Result<Schedule> finish() const {
    if (!object_) return Error::invalid("record data is not a JSON object");
    if (type_ == Flag::kBad) return Error::invalid("record data is not a session.Session");
    for (const TimeField* field :
         {&issued_, &expires_, &accessed_, &refreshed_, &token_expires_, &id_token_expires_}) {
      if (field->state == TimeField::kInvalid) return Error::invalid("invalid timestamp");
    }
    Schedule out;
    out.issued_at = issued_.time;
    out.expires_at = expires_.time;
    out.refreshed_at = refreshed_.time;
    out.token_expires_at = token_expires_.time;
    out.id_token_expires_at = id_token_expires_.time;
    out.refreshable = refreshable_;
    if (id_ != Flag::kOk) return Error::invalid("session record without an id");
    return out;
  }

  bool null() { return scalar(Scalar::kNull, {}); }
  bool boolean(bool) { return scalar(Scalar::kOther, {}); }
  bool number_integer(number_integer_t) { return scalar(Scalar::kOther, {}); }
  bool number_unsigned(number_unsigned_t) { return scalar(Scalar::kOther, {}); }
  bool number_float(number_float_t, const string_t&) { return scalar(Scalar::kOther, {}); }
  bool string(string_t& value) { return scalar(Scalar::kString, value); }
  bool binary(binary_t&) { return scalar(Scalar::kOther, {}); }

  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& name) {
    if (depth_ == 1) {
      pending_ = name == "@type"         ? Field::kType
                 : name == "id"          ? Field::kId
                 : name == "issuedAt"    ? Field::kIssued
                 : name == "expiresAt"   ? Field::kExpires
                 : name == "accessedAt"  ? Field::kAccessed
                 : name == "refreshedAt" ? Field::kRefreshed
                 : name == "oauthToken"  ? Field::kOAuth
                 : name == "idToken"     ? Field::kIdToken
                                         : Field::kNone;
      // A repeated object replaces the earlier one whole.
      if (pending_ == Field::kOAuth) {
        token_expires_ = {};
        refreshable_ = false;
      } else if (pending_ == Field::kIdToken) {
        id_token_expires_ = {};
      }
    } else if (depth_ == 2 && inner_ == Inner::kOAuth) {
      pending_ = name == "refreshToken" ? Field::kRefreshToken
                 : name == "expiresAt"  ? Field::kTokenExpires
                                        : Field::kNone;
    } else if (depth_ == 2 && inner_ == Inner::kIdToken) {
      pending_ = name == "expiresAt" ? Field::kIdTokenExpires : Field::kNone;
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  enum class Field {
    kNone,
    kType,
    kId,
    kIssued,
    kExpires,
    kAccessed,
    kRefreshed,
    kOAuth,
    kIdToken,
    kRefreshToken,
    kTokenExpires,
    kIdTokenExpires,
  };
  enum class Scalar { kNull, kString, kOther, kContainer };
  enum class Inner { kNone, kOAuth, kIdToken };
  enum class Flag { kAbsent, kOk, kBad };
  struct TimeField {
    enum State { kUnset, kInvalid } state = kUnset;
    Time time{};
  };

  TimeField* timeField(Field f) {
    switch (f) {
      case Field::kIssued:
        return &issued_;
      case Field::kExpires:
        return &expires_;
      case Field::kAccessed:
        return &accessed_;
      case Field::kRefreshed:
        return &refreshed_;
      case Field::kTokenExpires:
        return &token_expires_;
      case Field::kIdTokenExpires:
        return &id_token_expires_;
      default:
        return nullptr;
    }
  }

  // A value for the pending field of the current object.
  void assign(Scalar kind, std::string_view text) {
    Field f = pending_;
    pending_ = Field::kNone;
    if (TimeField* t = timeField(f)) {
      *t = {};
      if (kind == Scalar::kString) {
        if (auto parsed = parseTime(text)) {
          t->time = *parsed;
        } else {
          t->state = TimeField::kInvalid;
        }
      } else if (kind != Scalar::kNull) {
        t->state = TimeField::kInvalid;
      }
      return;
    }
    switch (f) {
      case Field::kType:
        type_ = kind == Scalar::kString && text == kSessionType ? Flag::kOk : Flag::kBad;
        break;
      case Field::kId:
        id_ = kind == Scalar::kString && !text.empty() ? Flag::kOk : Flag::kBad;
        break;
      case Field::kRefreshToken:
        refreshable_ = kind == Scalar::kString && !text.empty();
        break;
      default:
        break;
    }
  }

  bool scalar(Scalar kind, std::string_view text) {
    if (depth_ == 0) return true;  // a top-level scalar: not an object
    if (depth_ == 1 || (depth_ == 2 && inner_ != Inner::kNone)) assign(kind, text);
    return true;
  }

  bool open(bool object) {
    if (depth_ == 0) {
      object_ = object;
      depth_ = 1;
      return object;  // anything but an object is refused at once
    }
    bool tracked = depth_ == 1 || (depth_ == 2 && inner_ != Inner::kNone);
    if (tracked) {
      Field f = pending_;
      if (depth_ == 1 && object && f == Field::kOAuth) {
        inner_ = Inner::kOAuth;
        pending_ = Field::kNone;
      } else if (depth_ == 1 && object && f == Field::kIdToken) {
        inner_ = Inner::kIdToken;
        pending_ = Field::kNone;
      } else {
        if (depth_ == 1) inner_ = Inner::kNone;
        assign(Scalar::kContainer, {});
      }
    }
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    if (depth_ == 1) inner_ = Inner::kNone;
    return true;
  }

  int depth_ = 0;
  bool object_ = false;
  Field pending_ = Field::kNone;
  Inner inner_ = Inner::kNone;
  Flag type_ = Flag::kAbsent;
  Flag id_ = Flag::kAbsent;
  TimeField issued_, expires_, accessed_, refreshed_, token_expires_, id_token_expires_;
  bool refreshable_ = false;
};

}  // namespace

Result<Schedule> Schedule::fromJson(std::string_view text) {
  ScheduleReader reader;
  if (!json::sax_parse(text, &reader)) return Error::invalid("record data is not a JSON object");
  return reader.finish();
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
