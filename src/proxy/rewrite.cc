#include "proxy/rewrite.h"

#include <re2/re2.h>

#include <charconv>
#include <optional>
#include <string>

#include "common/strings.h"

namespace gatehouse::proxy {
namespace {

void appendQuery(std::string& out, std::string_view query) {
  if (query.empty()) return;
  out.push_back('?');
  out.append(query);
}

// A request line needs an origin-form target; a rewrite such as
// prefix_rewrite "" on prefix "/app" with the path "/app" would otherwise
// produce an empty one.
void ensureLeadingSlash(std::string& path) {
  if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
}

std::string_view defaultPort(std::string_view scheme) {
  if (iequals(scheme, "https")) return "443";
  if (iequals(scheme, "http")) return "80";
  return {};
}

// Splits "host:port" / "[v6]:port" at the port's colon; npos if no port.
size_t portColon(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.rfind("]:");
    return close == std::string_view::npos ? close : close + 1;
  }
  return host.rfind(':');
}

bool isPomeriumAuthorization(std::string_view value) {
  std::string_view v = trim(value);
  return (v.size() >= 9 && iequals(v.substr(0, 9), "pomerium ")) ||
         (v.size() >= 16 && iequals(v.substr(0, 16), "bearer pomerium-"));
}

// Appends to `out` a Cookie header value without the session cookie.
void appendWithoutCookie(std::string_view header, std::string_view cookie_name, std::string& out) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = trim(header.substr(0, semi));
    size_t eq = part.find('=');
    std::string_view name = trim(part.substr(0, eq));
    if (!part.empty() && name != cookie_name) {
      if (!out.empty()) out += "; ";
      out += part;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
}

bool isDefaultPort(const config::UpstreamUrl& to) {
  return (to.scheme == "https" && to.port == 443) || (to.scheme != "https" && to.port == 80);
}

}  // namespace

size_t matchedLength(const CompiledRoute& route, std::string_view path) {
  // Envoy replaces the matched part: the whole path for a path or regex
  // match, the configured prefix for a prefix match (RouteEntryImplBase
  // currentUrlPathAfterRewriteWithMatchedPath).
  // match_text is the `prefix`, "/" when unset.
  if (route.has_match_regex || route.exact_path) return path.size();
  return std::min(route.match_text.size(), path.size());
}

std::string rewritePath(const CompiledRoute& route, std::string_view path, std::string_view query) {
  std::string out;
  rewritePath(route, path, query, out);
  return out;
}

void rewritePath(const CompiledRoute& route, std::string_view path, std::string_view query,
                 std::string& out) {
  out.clear();
  if (route.has_prefix_rewrite) {
    const std::string_view prefix_rewrite = *route.prefix_rewrite;
    // A plain substitution of the matched prefix, so prefix "/" with
    // rewrite "/app" turns "/x" into "/appx": that is what Envoy sends, and
    // Pomerium users who want "/app/x" write "/app/".
    const size_t matched = matchedLength(route, path);
    out.reserve(prefix_rewrite.size() + path.size() - matched + query.size() + 1);
    out.append(prefix_rewrite);
    out.append(path.substr(matched));
  } else if (route.has_rewrite_regex) {
    assignKept(out, path);
    // Envoy's regex_rewrite is RE2::GlobalReplace on the path alone, with
    // \1-style references in the substitution.
    re2::RE2::GlobalReplace(&out, *route.rewrite_regex, route.config->regex_rewrite_substitution);
  } else {
    assignKept(out, path);
  }
  ensureLeadingSlash(out);
  appendQuery(out, query);
}

std::string redirectLocation(const config::RedirectAction& redirect, std::string_view scheme,
                             std::string_view host, std::string_view path, std::string_view query) {
  // Without the route, the matched part is taken to be the default prefix.
  return redirectLocationAfterMatch(redirect, scheme, host, path, query, path.empty() ? 0 : 1);
}

std::string redirectLocation(const CompiledRoute& route, std::string_view scheme,
                             std::string_view host, std::string_view path, std::string_view query) {
  static const config::RedirectAction kNoRedirect;
  const config::RedirectAction& redirect =
      route.config->redirect.has_value() ? *route.config->redirect : kNoRedirect;
  return redirectLocationAfterMatch(redirect, scheme, host, path, query,
                                    matchedLength(route, path));
}

std::string redirectLocationAfterMatch(const config::RedirectAction& redirect,
                                       std::string_view scheme, std::string_view host,
                                       std::string_view path, std::string_view query,
                                       size_t matched_length) {
  // Scheme: Pomerium sets only one of https_redirect and scheme_redirect,
  // https_redirect first.
  std::string_view final_scheme = scheme;
  if (redirect.https_redirect) {
    final_scheme = "https";
  } else if (!redirect.scheme_redirect.empty()) {
    final_scheme = redirect.scheme_redirect;
  }

  std::string port;
  if (redirect.port_redirect != 0) port = ":" + std::to_string(redirect.port_redirect);

  // Host: host_redirect replaces the whole authority. Otherwise the request
  // host is kept, without its port when a new port is given or when the
  // scheme changes and the port was the old scheme's default
  // (Envoy's processRequestHost: http://h:80 -> https://h).
  std::string_view final_host = host;
  if (!redirect.host_redirect.empty()) {
    final_host = redirect.host_redirect;
  } else if (const size_t colon = portColon(host); colon != std::string_view::npos) {
    const std::string_view request_port = host.substr(colon + 1);
    bool remove_port = !port.empty();
    if (!iequals(final_scheme, scheme)) {
      const std::string_view old_default = defaultPort(scheme);
      remove_port |= !old_default.empty() && request_port == old_default;
    }
    if (remove_port) final_host = host.substr(0, colon);
  }

  // Path: path_redirect replaces it (its own query, if it has one, replaces
  // the request's and survives strip_query); prefix_rewrite replaces the
  // part of the path the route matched.
  std::string final_path;
  std::string_view final_query = redirect.strip_query ? std::string_view() : query;
  if (!redirect.path_redirect.empty()) {
    const size_t question = redirect.path_redirect.find('?');
    if (question != std::string::npos) {
      final_path = redirect.path_redirect;
      ensureLeadingSlash(final_path);
      final_query = {};
    } else {
      final_path = redirect.path_redirect;
    }
  } else if (!redirect.prefix_rewrite.empty()) {
    // As in Envoy, an empty prefix_rewrite is no rewrite at all.
    const size_t matched = std::min(matched_length, path.size());
    final_path = redirect.prefix_rewrite;
    final_path.append(path.substr(matched));
  } else {
    final_path.assign(path);
  }
  ensureLeadingSlash(final_path);

  std::string out;
  out.reserve(final_scheme.size() + 3 + final_host.size() + port.size() + final_path.size() +
              final_query.size() + 1);
  out.append(final_scheme);
  out.append("://");
  out.append(final_host);
  out.append(port);
  out.append(final_path);
  appendQuery(out, final_query);
  return out;
}

bool rewriteResponseHeader(const config::Route& route, std::string_view name, std::string& value) {
  // Pomerium's rewrite-headers.lua: the rules run in order, each on the
  // value the previous one left, and only a prefix match rewrites.
  bool changed = false;
  for (const config::RewriteResponseHeader& rule : route.rewrite_response_headers) {
    if (!iequals(rule.header, name)) continue;
    if (!startsWith(value, rule.prefix)) continue;
    value.replace(0, rule.prefix.size(), rule.value);
    changed = true;
  }
  return changed;
}

bool isIdentityHeader(std::string_view name) {
  // Every x-pomerium-* header is Gatehouse's to set (the JWT assertion,
  // claim headers, routing and re-proxy headers); a client's copy is never
  // passed on, so an upstream can trust what it sees.
  return name.size() >= 11 && iequals(name.substr(0, 11), "x-pomerium-");
}

void prepareUpstreamRequest(const CompiledRoute& compiled, const http::RequestHead& in,
                            const config::UpstreamUrl& to, const UpstreamRequestContext& context,
                            http::RequestHead& out) {
  // Null for the many routes without these rules: their config is not read.
  const config::Route* rules = compiled.upstream_request_rules ? compiled.config : nullptr;
  // Into the kept head's strings: no allocation once they have been seen.
  assignKept(out.method, in.method);
  out.version = 11;
  assignKept(out.scheme, to.scheme == "https" ? "https" : "http");
  out.has_body = in.has_body;
  out.content_length = in.content_length;
  rewritePath(compiled, context.path, context.query, out.target);
  if (compiled.allow_websockets) {
    assignKept(out.upgrade, in.upgrade);
  } else {
    out.upgrade.clear();
  }

  // Host: the upstream's own name unless the route says otherwise.
  if (rules && rules->preserve_host_header) {
    out.authority = in.authority;
  } else if (rules && !rules->host_rewrite.empty()) {
    out.authority = rules->host_rewrite;
  } else if (auto v = !rules || rules->host_rewrite_header.empty()
                          ? std::nullopt
                          : in.headers.get(rules->host_rewrite_header)) {
    out.authority = std::string(*v);
  } else {
    bool v6 = to.host.find(':') != std::string::npos;
    out.authority.clear();
    if (v6) out.authority += '[';
    out.authority += to.host;
    if (v6) out.authority += ']';
    if (!isDefaultPort(to)) {
      char digits[8];
      auto written = std::to_chars(digits, digits + sizeof(digits), to.port);
      out.authority += ':';
      out.authority.append(digits, written.ptr);
    }
  }

  const uint32_t trusted = context.xff_num_trusted_hops;
  out.headers.reserve(in.headers.size() + 6);
  std::string forwarded_for;
  for (const auto& f : in.headers.fields()) {
    if (iequals(f.name, "host")) continue;
    // Without trusted hops the client's X-Forwarded-Proto and -Host are
    // replaced (or removed) below in any case.
    if (trusted == 0 &&
        (iequals(f.name, "x-forwarded-proto") || iequals(f.name, "x-forwarded-host"))) {
      continue;
    }
    if (isIdentityHeader(f.name)) continue;
    if (iequals(f.name, "authorization") && isPomeriumAuthorization(f.value)) continue;
    if (iequals(f.name, "x-request-id")) continue;
    if (iequals(f.name, "x-forwarded-for")) {
      if (!forwarded_for.empty()) forwarded_for += ", ";
      forwarded_for += f.value;
      continue;
    }
    if (iequals(f.name, "cookie")) {
      // Written into the kept field's storage; a header that held nothing
      // but the session cookie is taken back.
      std::string& rest = out.headers.add("cookie");
      appendWithoutCookie(f.value, context.session_cookie_name, rest);
      if (rest.empty()) out.headers.removeLast();
      continue;
    }
    out.headers.add(f.name, f.value);
  }
  if (rules) {
    for (const auto& name : rules->remove_request_headers) out.headers.remove(name);
  }

  if (!context.skip_xff_append) {
    if (!forwarded_for.empty()) forwarded_for += ", ";
    forwarded_for += context.remote_ip;
  }
  // X-Forwarded-For and X-Request-Id were not copied above, nor (without
  // trusted hops) X-Forwarded-Proto and -Host: adding is setting.
  if (!forwarded_for.empty()) out.headers.add("x-forwarded-for", forwarded_for);
  std::string_view proto = context.tls ? "https" : "http";
  if (trusted == 0) {
    out.headers.add("x-forwarded-proto", proto);
  } else if (!out.headers.has("x-forwarded-proto")) {
    out.headers.set("x-forwarded-proto", proto);
  }
  bool remove_xfh = false;
  if (rules) {
    for (const auto& name : rules->remove_request_headers)
      remove_xfh |= iequals(name, "x-forwarded-host");
  }
  if (!remove_xfh && trusted == 0) {
    out.headers.add("x-forwarded-host", in.authority);
  } else if (!remove_xfh && !out.headers.has("x-forwarded-host")) {
    out.headers.set("x-forwarded-host", in.authority);
  }
  out.headers.add("x-request-id", context.request_id);
  // Each decision header replaces any field of its name. An identity
  // header (x-pomerium-*) can only be among the decision headers before
  // it, as the client's were not copied: only those are searched for it.
  const auto decided = context.decision_headers;
  for (size_t i = 0; i < decided.size(); ++i) {
    const auto& [name, value] = decided[i];
    bool replaces = !isIdentityHeader(name);
    for (size_t j = 0; j < i && !replaces; ++j) replaces = iequals(decided[j].first, name);
    if (replaces) {
      out.headers.set(name, value);
    } else {
      out.headers.add(name, value);
    }
  }
}

}  // namespace gatehouse::proxy
