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
// `upgrade`, when given, is set if "upgrade" is one of the tokens.
bool connectionTokens(std::string_view value, HeadFacts& facts, bool& close, bool& keep_alive,
                      bool* upgrade) {
  // The usual value, one of these alone.
  if (iequals(value, "keep-alive")) {
    keep_alive = true;
    return true;
  }
  if (iequals(value, "close")) {
    close = true;
    return true;
  }
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
    } else if (upgrade != nullptr && iequals(token, "upgrade")) {
      *upgrade = true;
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
// line. Every byte is checked as validateRequestHead checks a request's
// field lines, and at most `max_fields` lines are taken. One pass over each
// line: the name up to ':', then the value up to CR LF. With `set` other
// than kAll, hop-by-hop fields (and Content-Length unless kept) are read for
// what they say and not added; kForwardedRequest leaves out Expect as well
// and reads Host, Upgrade and Expect into `facts`.
bool splitFields(std::string_view rest, FieldSet set, size_t max_fields, HeadFacts& facts,
                 Headers& fields) {
  // Every line, the last one included, ends with CR, which stops the name
  // scan below without a bound check of its own.
  if (rest.size() < 2 || rest[rest.size() - 2] != '\r' || rest.back() != '\n') return false;
  bool close = false;
  bool keep_alive = false;
  const bool forward = set != FieldSet::kAll;
  const bool request = set == FieldSet::kForwardedRequest;
  const bool keep_length = set == FieldSet::kAll || set == FieldSet::kForwardedWithLength;
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
    if (max_fields-- == 0) return false;
    const char* value_begin = ++p;
    p = skipFieldValueBytes(p, end);
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return false;
    std::string_view value =
        trimOws(std::string_view(value_begin, static_cast<size_t>(p - value_begin)));
    p += 2;
    bool add = true;
    switch (name.size()) {
      case 4:
        if (request && iequals(name, "host") && facts.host_count++ == 0) facts.host = value;
        break;
      case 6:
        if (request && iequals(name, "expect")) {
          if (!facts.expect) facts.expect = value;
          add = false;
        }
        break;
      case 7:
        if (forward && isHopByHop(name)) {
          add = false;
          if (request && !facts.upgrade && iequals(name, "upgrade")) facts.upgrade = value;
        }
        break;
      case 10:
        if (iequals(name, "connection")) {
          if (!connectionTokens(value, facts, close, keep_alive, &facts.connection_upgrade)) {
            return false;
          }
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
          if (!connectionTokens(value, facts, close, keep_alive, nullptr)) return false;
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

bool splitRequestHead(std::string_view head, const HeadLimits& limits, HeadFacts& facts,
                      Headers& fields, FieldSet set) {
  // Whatever validateRequestHead refuses, this refuses too: the caller
  // skips that check when the split succeeds, and makes it (for the answer
  // it gives) when it does not.
  if (set != FieldSet::kAll && set != FieldSet::kForwardedRequest) return false;
  if (head.size() > limits.max_bytes) return false;
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return false;
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  // Common methods only: anything else goes to the general parser.
  for (char c : line.substr(0, sp1)) {
    if (c < 'A' || c > 'Z') return false;
  }
  // The target: request-target bytes up to the one space before the
  // version (a second space, a control byte or DEL ends it early).
  const char* target_begin = line.data() + sp1 + 1;
  const char* line_end = line.data() + line.size();
  const char* target_end = skipTargetBytes(target_begin, line_end);
  if (target_end == target_begin || target_end == line_end || *target_end != ' ') return false;
  const size_t sp2 = static_cast<size_t>(target_end - line.data());
  if (!parseVersion(line.substr(sp2 + 1), facts.version)) return false;
  facts.method = line.substr(0, sp1);
  facts.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  return splitFields(head.substr(eol + 2), set, limits.max_headers, facts, fields);
}

bool splitResponseHead(std::string_view head, HeadFacts& facts, Headers& fields, FieldSet set) {
  if (set == FieldSet::kForwardedRequest) return false;
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
  return splitFields(head.substr(eol + 2), set, SIZE_MAX, facts, fields);
}

}  // namespace gatehouse::http
