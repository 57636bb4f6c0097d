#include "crypto/signed_url.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "common/strings.h"
#include "crypto/hmac.h"
#include "crypto/openssl_util.h"

namespace gatehouse::crypto {
namespace {

constexpr std::string_view kIssuedParam = "pomerium_issued";
constexpr std::string_view kExpiryParam = "pomerium_expiry";
constexpr std::string_view kSignatureParam = "pomerium_signature";

// A URL cut where Go's url.Parse cuts it.
struct UrlParts {
  std::string base;  // everything before '?'
  std::string_view query;
  std::string_view fragment;  // without '#'
};

UrlParts splitUrl(std::string_view url) {
  UrlParts parts;
  if (const size_t hash = url.find('#'); hash != std::string_view::npos) {
    parts.fragment = url.substr(hash + 1);
    url = url.substr(0, hash);
  }
  if (const size_t question = url.find('?'); question != std::string_view::npos) {
    parts.query = url.substr(question + 1);
    url = url.substr(0, question);
  }
  parts.base = std::string(url);
  // Go lower-cases the scheme when it parses a URL.
  if (const size_t colon = parts.base.find(':');
      colon != std::string::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(parts.base[0]))) {
    const bool is_scheme =
        std::all_of(parts.base.begin(), parts.base.begin() + static_cast<long>(colon), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        });
    if (is_scheme) {
      std::transform(
          parts.base.begin(), parts.base.begin() + static_cast<long>(colon), parts.base.begin(),
          [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    }
  }
  return parts;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape: '+' is a space, %XX must be two hex digits.
std::optional<std::string> queryUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || hexValue(s[i + 1]) < 0 || hexValue(s[i + 2]) < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else if (c == '+') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// Go's url.QueryEscape: only letters, digits and -_.~ stay as they are.
std::string queryEscape(std::string_view s) { return percentEncode(s, true); }

// Go's url.Values: the parameters in the order they came, several values
// per key allowed.
using Params = std::vector<std::pair<std::string, std::string>>;

// Go's url.ParseQuery, keeping what Go keeps: pairs with ';' or a bad
// escape are dropped (Go reports an error that URL.Query() ignores).
Params parseQuery(std::string_view query) {
  Params params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.find(';') != std::string_view::npos || pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = queryUnescape(pair.substr(0, eq));
    auto value =
        queryUnescape(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) continue;
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

// Go's url.Values.Encode: keys in byte order, each key's values in order.
std::string encodeQuery(Params params) {
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += queryEscape(key);
    out += '=';
    out += queryEscape(value);
  }
  return out;
}

void removeParam(Params& params, std::string_view key) {
  std::erase_if(params, [&](const auto& p) { return p.first == key; });
}

const std::string* firstValue(const Params& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

// Go's url.URL.String() for a URL with this base, query and fragment.
std::string assemble(const UrlParts& parts, std::string_view query) {
  std::string out = parts.base;
  if (!query.empty()) {
    out += '?';
    out += query;
  }
  if (!parts.fragment.empty()) {
    out += '#';
    out += parts.fragment;
  }
  return out;
}

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> parseInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (magnitude > kMaxPositive + 1) return std::nullopt;
    return magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
  }
  if (magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

std::string signatureMessage(std::string_view canonical_url, int64_t issued, int64_t expiry) {
  std::string message(canonical_url);
  message += std::to_string(issued);
  message += ' ';
  message += std::to_string(expiry);
  return message;
}

// Go's base64.URLEncoding: base64url with padding.
std::string base64UrlPadded(std::string_view data) {
  std::string text = base64UrlEncode(data);
  while (text.size() % 4 != 0) text += '=';
  return text;
}

int64_t unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

SignedUrl::SignedUrl(std::string key) : key_(std::move(key)) {}

SignedUrl::~SignedUrl() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string SignedUrl::sign(std::string_view url, std::chrono::system_clock::time_point now) const {
  const UrlParts parts = splitUrl(url);
  Params params = parseQuery(parts.query);
  const int64_t issued = unixSeconds(now);
  const int64_t expiry = issued + kLifetime.count();
  removeParam(params, kIssuedParam);
  removeParam(params, kExpiryParam);
  removeParam(params, kSignatureParam);
  params.emplace_back(kIssuedParam, std::to_string(issued));
  params.emplace_back(kExpiryParam, std::to_string(expiry));
  const std::string unsigned_url = assemble(parts, encodeQuery(params));
  const std::string mac =
      hmac(HmacHash::kSha512_256, key_, signatureMessage(unsigned_url, issued, expiry));
  params.emplace_back(kSignatureParam, base64UrlPadded(mac));
  return assemble(parts, encodeQuery(std::move(params)));
}

Result<void> SignedUrl::verify(std::string_view url,
                               std::chrono::system_clock::time_point now) const {
  const UrlParts parts = splitUrl(url);
  Params params = parseQuery(parts.query);

  const std::string* signature_text = firstValue(params, kSignatureParam);
  if (signature_text == nullptr) return detail::malformed("signed URL: no pomerium_signature");
  std::string_view unpadded = *signature_text;
  for (int i = 0; i < 2 && !unpadded.empty() && unpadded.back() == '='; ++i)
    unpadded.remove_suffix(1);
  const auto signature = detail::base64UrlDecodeStrict(unpadded);
  if (!signature) return detail::malformed("signed URL: malformed pomerium_signature");
  removeParam(params, kSignatureParam);

  const std::string* issued_text = firstValue(params, kIssuedParam);
  const std::string* expiry_text = firstValue(params, kExpiryParam);
  const auto issued = issued_text ? parseInt64(*issued_text) : std::nullopt;
  if (!issued) return detail::malformed("signed URL: missing or malformed pomerium_issued");
  const auto expiry = expiry_text ? parseInt64(*expiry_text) : std::nullopt;
  if (!expiry) return detail::malformed("signed URL: missing or malformed pomerium_expiry");

  // Go compares `now`, with its fraction of a second, to time.Unix(n, 0);
  // in whole seconds that is the comparisons below. Only `now` is moved by
  // the leeway, so no arithmetic on the untrusted values can overflow.
  const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch());
  const bool now_has_fraction = now.time_since_epoch() != now_seconds;
  const int64_t now_unix = now_seconds.count();
  const int64_t leeway = kLeeway.count();
  // Expired: now - leeway > expiry.
  if (now_unix - leeway > *expiry || (now_unix - leeway == *expiry && now_has_fraction)) {
    return detail::rejected("signed URL: expired");
  }
  // Not yet valid: now + leeway < issued.
  if (now_unix + leeway < *issued) return detail::rejected("signed URL: issued in the future");

  const std::string unsigned_url = assemble(parts, encodeQuery(std::move(params)));
  if (!verifyHmac(HmacHash::kSha512_256, key_, signatureMessage(unsigned_url, *issued, *expiry),
                  *signature)) {
    return detail::rejected("signed URL: signature does not match");
  }
  return {};
}

}  // namespace gatehouse::crypto
