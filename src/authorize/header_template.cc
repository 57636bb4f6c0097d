#include "authorize/header_template.h"

#include <algorithm>
#include <optional>

namespace gatehouse::authorize {
namespace {

bool isIdentifierChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '-';
}

// A recursive-descent reading of the grammar in header_template.h. Each
// parse* function either consumes its production and returns it, or leaves
// `pos_` where it was and returns nullopt.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  size_t position() const { return pos_; }

  // At a '$': "$$", "$ref" or "${ref}"; `escaped_dollar` is set for "$$".
  std::optional<std::vector<std::string>> parseVariable(bool& escaped_dollar) {
    escaped_dollar = false;
    size_t start = pos_;
    ++pos_;  // '$'
    if (peek() == '$') {
      ++pos_;
      escaped_dollar = true;
      return std::vector<std::string>{};
    }
    if (peek() == '{') {
      ++pos_;
      auto ref = parseBracedReference();
      if (!ref || peek() != '}') {
        pos_ = start;
        return std::nullopt;
      }
      ++pos_;
      return ref;
    }
    auto ref = parseSimpleReference();
    if (!ref) pos_ = start;
    return ref;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skipBlanks() {
    while (peek() == ' ' || peek() == '\t') ++pos_;
  }

  std::optional<std::string> parseIdentifier() {
    size_t start = pos_;
    while (isIdentifierChar(peek())) ++pos_;
    if (pos_ == start) return std::nullopt;
    return std::string(text_.substr(start, pos_ - start));
  }

  std::optional<std::string> parseQuoted() {
    size_t start = pos_;
    if (peek() != '"') return std::nullopt;
    ++pos_;
    std::string value;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return value;
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        c = text_[pos_++];
      }
      value += c;
    }
    pos_ = start;
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> parseSimpleReference() {
    size_t start = pos_;
    std::vector<std::string> ref;
    for (;;) {
      auto id = parseIdentifier();
      if (!id) {
        pos_ = start;
        return std::nullopt;
      }
      ref.push_back(std::move(*id));
      if (peek() != '.') break;
      ++pos_;
    }
    return ref;
  }

  std::optional<std::vector<std::string>> parseBracedReference() {
    size_t start = pos_;
    skipBlanks();
    std::vector<std::string> ref;
    auto id = parseIdentifier();
    if (!id) {
      pos_ = start;
      return std::nullopt;
    }
    ref.push_back(std::move(*id));
    for (;;) {
      skipBlanks();
      if (peek() == '.') {
        ++pos_;
        skipBlanks();
        auto part = parseIdentifier();
        if (!part) {
          pos_ = start;
          return std::nullopt;
        }
        ref.push_back(std::move(*part));
      } else if (peek() == '[') {
        ++pos_;
        skipBlanks();
        auto part = parseQuoted();
        if (!part) {
          pos_ = start;
          return std::nullopt;
        }
        ref.push_back(std::move(*part));
        skipBlanks();
        if (peek() != ']') {
          pos_ = start;
          return std::nullopt;
        }
        ++pos_;
      } else {
        return ref;
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

HeaderTemplate HeaderTemplate::compile(std::string_view text) {
  HeaderTemplate compiled;
  auto append_text = [&](std::string_view piece) {
    if (!compiled.segments_.empty() && compiled.segments_.back().kind == Kind::kText) {
      compiled.segments_.back().text += piece;
    } else {
      compiled.segments_.push_back({Kind::kText, std::string(piece)});
    }
  };
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '$') {
      size_t next = text.find('$', pos);
      if (next == std::string_view::npos) next = text.size();
      append_text(text.substr(pos, next - pos));
      pos = next;
      continue;
    }
    Parser at(text.substr(pos));
    bool escaped_dollar = false;
    auto ref = at.parseVariable(escaped_dollar);
    if (!ref) {
      append_text("$");
      ++pos;
      continue;
    }
    pos += at.position();
    if (escaped_dollar) {
      append_text("$");
      continue;
    }
    const auto& parts = *ref;
    auto is = [&](std::initializer_list<std::string_view> expected) {
      return parts.size() == expected.size() &&
             std::equal(parts.begin(), parts.end(), expected.begin());
    };
    if (is({"pomerium", "access_token"})) {
      compiled.segments_.push_back({Kind::kAccessToken, {}});
    } else if (is({"pomerium", "id_token"})) {
      compiled.segments_.push_back({Kind::kIdToken, {}});
    } else if (is({"pomerium", "jwt"})) {
      compiled.segments_.push_back({Kind::kJwt, {}});
    } else if (is({"pomerium", "client_cert_fingerprint"})) {
      compiled.segments_.push_back({Kind::kClientCertFingerprint, {}});
    } else if (parts.size() > 3 && parts[0] == "pomerium" && parts[1] == "request" &&
               parts[2] == "headers") {
      compiled.segments_.push_back({Kind::kRequestHeader, parts[3]});
    } else {
      compiled.segments_.push_back({Kind::kEmpty, {}});
    }
  }
  return compiled;
}

void HeaderTemplate::render(const Context& context, std::string& out) const {
  for (const auto& segment : segments_) {
    switch (segment.kind) {
      case Kind::kText:
        out += segment.text;
        break;
      case Kind::kAccessToken:
        if (context.identity != nullptr) out += context.identity->access_token;
        break;
      case Kind::kIdToken:
        if (context.identity != nullptr) out += context.identity->id_token;
        break;
      case Kind::kJwt:
        out += context.jwt;
        break;
      case Kind::kClientCertFingerprint:
        out += context.client_cert_fingerprint;
        break;
      case Kind::kRequestHeader:
        if (context.request_headers != nullptr) {
          if (auto value = context.request_headers->get(segment.text)) out += *value;
        }
        break;
      case Kind::kEmpty:
        break;
    }
  }
}

bool HeaderTemplate::usesJwt() const {
  return std::any_of(segments_.begin(), segments_.end(),
                     [](const Segment& segment) { return segment.kind == Kind::kJwt; });
}

bool HeaderTemplate::isLiteral() const {
  return std::all_of(segments_.begin(), segments_.end(),
                     [](const Segment& segment) { return segment.kind == Kind::kText; });
}

}  // namespace gatehouse::authorize
