#include "authorize/response.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include "common/strings.h"

namespace gatehouse::authorize {
namespace {

using policy::Reason;
using policy::Reasons;

// Accept parsing that reads a header exactly as go.rfcx/rfc7231 (the library
// behind Pomerium's content negotiation) does, quirks included: words run
// until one of / ; = , (so "html ;q=1" has the subtype "html "), q=0 weighs
// as much as no q, and media-type parameters must match exactly.
class AcceptParser {
 public:
  enum class Token { kSlash, kSemicolon, kEquals, kComma, kWord, kSpace, kEnd };

  struct MediaRange {
    std::string type;
    std::string subtype;
    size_t parameter_count = 0;  // besides q
    double weight = 0;
  };

  explicit AcceptParser(std::string_view text) : text_(text) {}

  std::optional<std::vector<MediaRange>> parse() {
    std::vector<MediaRange> ranges;
    for (;;) {
      Token token = nextSkippingSpace();
      if (token == Token::kEnd) break;
      if (token == Token::kComma) token = nextSkippingSpace();
      if (token != Token::kWord) return std::nullopt;
      MediaRange range;
      range.type = toLower(literal_);
      if (nextSkippingSpace() != Token::kSlash) return std::nullopt;
      if (nextSkippingSpace() != Token::kWord) return std::nullopt;
      range.subtype = toLower(literal_);
      if (range.type == "*" && range.subtype != "*") return std::nullopt;
      double q = 0;
      for (;;) {
        token = nextSkippingSpace();
        if (token == Token::kEnd) break;
        if (token == Token::kComma) {
          pushed_back_ = true;
          break;
        }
        if (token != Token::kSemicolon) return std::nullopt;
        nextSkippingSpace();
        std::string key = literal_;
        if (nextSkippingSpace() != Token::kEquals) return std::nullopt;
        nextSkippingSpace();
        if (key == "q") {
          auto value = parseGoFloat(literal_);
          if (!value) return std::nullopt;
          q = *value;
        } else {
          ++range.parameter_count;
        }
      }
      q = std::isnan(q) ? 0 : std::clamp(q, 0.0, 1.0);
      if (q == 0) q = 1;  // the library's reading of "unset"
      double specificity = range.type == "*" ? 0 : (range.subtype == "*" ? 0.00001 : 0.00002);
      range.weight = specificity + q + 0.0001 * static_cast<double>(range.parameter_count);
      ranges.push_back(std::move(range));
    }
    if (ranges.empty()) ranges.push_back({"*", "*", 0, 1});
    return ranges;
  }

 private:
  static bool isSymbol(char c) { return c == '/' || c == ';' || c == '=' || c == ','; }
  static bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  }

  static std::optional<double> parseGoFloat(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
  }

  Token next() {
    if (pushed_back_) {
      pushed_back_ = false;
      return last_;
    }
    literal_.clear();
    if (pos_ >= text_.size()) return last_ = Token::kEnd;
    char c = text_[pos_];
    if (isSpace(c)) {
      while (pos_ < text_.size() && isSpace(text_[pos_])) literal_ += text_[pos_++];
      return last_ = Token::kSpace;
    }
    if (isSymbol(c)) {
      literal_ = std::string(1, c);
      ++pos_;
      switch (c) {
        case '/':
          return last_ = Token::kSlash;
        case ';':
          return last_ = Token::kSemicolon;
        case '=':
          return last_ = Token::kEquals;
        default:
          return last_ = Token::kComma;
      }
    }
    while (pos_ < text_.size() && !isSymbol(text_[pos_])) literal_ += text_[pos_++];
    return last_ = Token::kWord;
  }

  Token nextSkippingSpace() {
    Token token = next();
    return token == Token::kSpace ? next() : token;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string literal_;
  Token last_ = Token::kEnd;
  bool pushed_back_ = false;
};

bool supports(const AcceptParser::MediaRange& range, std::string_view candidate) {
  if (range.type == "*") return true;
  size_t slash = candidate.find('/');
  std::string_view type = candidate.substr(0, slash);
  std::string_view subtype = candidate.substr(slash + 1);
  if (range.subtype == "*") return type == range.type;
  return type == range.type && subtype == range.subtype && range.parameter_count == 0;
}

bool hasClientCertificateReason(Reasons reasons) {
  return reasons.has(Reason::kClientCertificateRequired) ||
         reasons.has(Reason::kInvalidClientCertificate);
}

bool isJsonWebRequest(std::string_view accept) {
  if (accept.empty()) return false;
  bool parsed = true;
  return mostAcceptable(accept, {"text/html", "application/json"}, parsed) == "application/json";
}

BodyFormat bodyFormatFor(const RequestFacts& request) {
  if (request.user_agent.find("kubernetes/") != std::string_view::npos) {
    return BodyFormat::kKubernetesStatus;
  }
  if (request.path == "/robots.txt") return BodyFormat::kPlain;
  if (isJsonWebRequest(request.accept)) return BodyFormat::kJson;
  if (isGrpcRequest(request.content_type)) return BodyFormat::kGrpc;
  if (isGrpcWebRequest(request.content_type)) return BodyFormat::kGrpcWeb;
  return BodyFormat::kHtml;
}

Response denied(Outcome outcome, const RequestFacts& request) {
  Response response;
  response.format = bodyFormatFor(request);
  if (response.format == BodyFormat::kPlain) {
    response.outcome = Outcome::kRobotsTxt;
    response.status = 200;
    response.message = kRobotsTxtBody;
    return response;
  }
  response.outcome = outcome;
  switch (outcome) {
    case Outcome::kRedirectToLogin:
      response.status = 302;
      response.message = "Login";
      break;
    case Outcome::kUnauthenticated:
      response.status = 401;
      response.message = "Unauthenticated";
      break;
    case Outcome::kNotFound:
      response.status = 404;
      response.message = "Not Found";
      break;
    case Outcome::kClientCertificate:
      response.status = 495;
      response.message = "a valid client certificate is required to access this page";
      break;
    default:
      response.outcome = Outcome::kForbidden;
      response.status = 403;
      response.message = "Forbidden";
      break;
  }
  return response;
}

Response deniedWithReasons(Reasons reasons, const RequestFacts& request) {
  if (reasons.has(Reason::kRouteNotFound)) return denied(Outcome::kNotFound, request);
  if (hasClientCertificateReason(reasons)) return denied(Outcome::kClientCertificate, request);
  return denied(Outcome::kForbidden, request);
}

}  // namespace

std::string_view mostAcceptable(std::string_view accept,
                                std::initializer_list<std::string_view> candidates, bool& parsed) {
  auto ranges = AcceptParser(accept).parse();
  parsed = ranges.has_value();
  if (!ranges) return {};
  std::stable_sort(ranges->begin(), ranges->end(),
                   [](const auto& a, const auto& b) { return a.weight > b.weight; });
  for (const auto& range : *ranges) {
    for (std::string_view candidate : candidates) {
      if (supports(range, candidate)) return candidate;
    }
  }
  return {};
}

bool isGrpcRequest(std::string_view content_type) {
  return content_type == "application/grpc" || startsWith(content_type, "application/grpc+");
}

bool isGrpcWebRequest(std::string_view content_type) {
  return content_type == "application/grpc-web-text" ||
         startsWith(content_type, "application/grpc-web+");
}

bool shouldRedirect(const RequestFacts& request) {
  if (request.session_from_header_or_query) return false;
  if (isGrpcRequest(request.content_type)) return false;
  bool parsed = true;
  std::string_view preferred =
      mostAcceptable(request.accept,
                     {"text/html", "application/json", "text/plain", "application/grpc-web-text",
                      "application/grpc-web+proto", "application/grpc+proto"},
                     parsed);
  if (!parsed || preferred.empty()) return true;
  return preferred == "text/html";
}

Response decideResponse(const policy::Decision& decision, const RequestFacts& request) {
  if (hasClientCertificateReason(decision.deny_reasons)) {
    return deniedWithReasons(decision.deny_reasons, request);
  }
  if (decision.allow_reasons.has(Reason::kUserUnauthenticated) ||
      decision.deny_reasons.has(Reason::kUserUnauthenticated)) {
    return denied(shouldRedirect(request) ? Outcome::kRedirectToLogin : Outcome::kUnauthenticated,
                  request);
  }
  if (decision.deny) return deniedWithReasons(decision.deny_reasons, request);
  if (decision.allow) {
    return {.outcome = Outcome::kAllow, .status = 200, .format = BodyFormat::kNone, .message = {}};
  }
  return deniedWithReasons(decision.allow_reasons, request);
}

int grpcStatusForHttp(int status) {
  switch (status) {
    case 400:
      return 13;  // INTERNAL
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

std::string jsonErrorBody(const Response& response, std::string_view request_id) {
  std::string body = "{\"error\":";
  body += jsonQuote(response.message);
  body += ",\"request_id\":";
  body += jsonQuote(request_id);
  body += '}';
  return body;
}

std::string kubernetesStatusBody(const Response& response) {
  std::string_view reason;
  switch (response.status) {
    case 401:
    case 450:
    case 495:
      reason = "Unauthorized";
      break;
    case 403:
      reason = "Forbidden";
      break;
    case 404:
      reason = "NotFound";
      break;
    default:
      break;
  }
  // Keys in the order Go's encoding/json writes a map: sorted.
  std::string body = "{\"apiVersion\":\"v1\",\"code\":";
  body += std::to_string(response.status);
  body += ",\"kind\":\"Status\",\"message\":";
  body += jsonQuote(response.message);
  body += ",\"reason\":";
  body += jsonQuote(reason);
  body += ",\"status\":\"Failure\"}";
  return body;
}

}  // namespace gatehouse::authorize
