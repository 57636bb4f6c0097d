#include "http/http1_head.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "common/strings.h"
#include "http/byte_scan.h"

namespace gatehouse::http {
namespace {

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && isOws(v.front())) v.remove_prefix(1);
  while (!v.empty() && isOws(v.back())) v.remove_suffix(1);
  return v;
}

// A Content-Length of 1 to 19 digits (no overflow possible).
bool parseLength(std::string_view v, uint64_t& out) {
  if (v.empty() || v.size() > 19) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  out = n;
  return true;
}

// Connection tokens, when the value is a plain list of them. A token other
// than close and keep-alive that is not a hop-by-hop name itself names a
// field that must not be forwarded (RFC 9110 section 7.6.1).
bool connectionTokens(std::string_view value, HeadFacts& facts, bool& close, bool& keep_alive) {
  while (true) {
    size_t comma = value.find(',');
    std::string_view token = trimOws(value.substr(0, comma));
    if (token.empty()) return false;
    for (char c : token) {
      if (!isTokenByte(static_cast<unsigned char>(c))) return false;
    }
    if (iequals(token, "close")) {
      close = true;
    } else if (iequals(token, "keep-alive")) {
      keep_alive = true;
    } else if (!isHopByHop(token)) {
      facts.connection_names_fields = true;
    }
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

// "HTTP/1.0" or "HTTP/1.1".
bool parseVersion(std::string_view v, int& version) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1." || (v[7] != '0' && v[7] != '1')) return false;
  version = v[7] == '1' ? 11 : 10;
  return true;
}

// What a byte can be in a field name: kName for a token character, and
// kUnderscore as well for '_'. Zero for anything else, CR and ':' among
// them, which is what ends the scan of a name.
enum : uint8_t { kName = 1, kUnderscore = 2 };
constexpr auto kNameClass = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = kTokenByte[c] ? kName : 0;
  table['_'] = kName | kUnderscore;
  return table;
}();

// The field lines after the start line: `rest` must end with the empty
// line. `check` validates value bytes that validateRequestHead has not. One
// pass over each line: the name up to ':', then the value up to CR LF. With
// `set` other than kAll, hop-by-hop fields (and Content-Length unless
// kept) are read for what they say and not added.
bool splitFields(std::string_view rest, bool check, FieldSet set, HeadFacts& facts,
                 Headers& fields) {
  // Every line, the last one included, ends with CR, which stops the name
  // scan below without a bound check of its own.
  if (rest.size() < 2 || rest[rest.size() - 2] != '\r' || rest.back() != '\n') return false;
  bool close = false;
  bool keep_alive = false;
  const bool forward = set != FieldSet::kAll;
  const bool keep_length = set != FieldSet::kForwarded;
  const char* p = rest.data();
  const char* const end = p + rest.size();
  uint8_t seen = 0;
  while (true) {
    if (p == end) return false;  // no empty line at the end
    if (p[0] == '\r') {
      if (p + 2 != end || p[1] != '\n') return false;
      break;
    }
    // A name of token characters up to ':'. A leading SP or HTAB (obs-fold)
    // is not one, nor is anything else validateRequestHead would refuse.
    const char* name_begin = p;
    uint8_t cls;
    while ((cls = kNameClass[static_cast<unsigned char>(*p)]) != 0) {
      seen |= cls;
      ++p;
    }
    if (*p != ':' || p == name_begin) return false;
    std::string_view name(name_begin, static_cast<size_t>(p - name_begin));
    const char* value_begin = ++p;
    if (check) {
      p = skipFieldValueBytes(p, end);
    } else {
      const void* cr = std::memchr(p, '\r', static_cast<size_t>(end - p));
      p = cr != nullptr ? static_cast<const char*>(cr) : end;
    }
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return false;
    std::string_view value =
        trimOws(std::string_view(value_begin, static_cast<size_t>(p - value_begin)));
    p += 2;
    bool add = true;
    switch (name.size()) {
      case 10:
        if (iequals(name, "connection")) {
          if (!connectionTokens(value, facts, close, keep_alive)) return false;
          add = !forward;
        } else if (forward && iequals(name, "keep-alive")) {
          add = false;
        }
        break;
      case 14:
        if (iequals(name, "content-length")) {
          uint64_t length = 0;
          if (facts.content_length || !parseLength(value, length)) return false;
          facts.content_length = length;
          add = keep_length;
        }
        break;
      case 16:
        if (iequals(name, "proxy-connection")) {
          if (!connectionTokens(value, facts, close, keep_alive)) return false;
          add = !forward;
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) return false;
        break;
      default:
        if (forward && isHopByHop(name)) add = false;
        break;
    }
    if (add) fields.add(name, value);
  }
  if (seen & kUnderscore) facts.saw_underscore = true;
  // RFC 9112 section 9.3: "close" ends the connection whatever else is
  // listed; HTTP/1.0 persists only when asked to.
  facts.keep_alive = !close && (facts.version == 11 || keep_alive);
  return true;
}

}  // namespace

bool splitRequestHead(std::string_view head, HeadFacts& facts, Headers& fields) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return false;
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  // Common methods only: anything else goes to the general parser.
  for (char c : line.substr(0, sp1)) {
    if (c < 'A' || c > 'Z') return false;
  }
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  if (!parseVersion(line.substr(sp2 + 1), facts.version)) return false;
  facts.method = line.substr(0, sp1);
  facts.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  return splitFields(head.substr(eol + 2), false, FieldSet::kAll, facts, fields);
}

bool splitResponseHead(std::string_view head, HeadFacts& facts, Headers& fields, FieldSet set) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return false;
  std::string_view line = head.substr(0, eol);
  // HTTP/1.x SP 3DIGIT SP reason-phrase
  if (line.size() < 13 || !parseVersion(line.substr(0, 8), facts.version) || line[8] != ' ' ||
      line[12] != ' ') {
    return false;
  }
  int status = 0;
  for (char c : line.substr(9, 3)) {
    if (c < '0' || c > '9') return false;
    status = status * 10 + (c - '0');
  }
  if (status < 100) return false;
  for (char c : line.substr(13)) {
    if (!isFieldValueByte(static_cast<unsigned char>(c))) return false;
  }
  facts.status = status;
  if (set == FieldSet::kForwarded && status == 304) set = FieldSet::kForwardedWithLength;
  return splitFields(head.substr(eol + 2), true, set, facts, fields);
}

}  // namespace gatehouse::http
