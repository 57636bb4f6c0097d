#include "databroker/grpc_target.h"

#include <utility>

namespace gatehouse::databroker {
namespace {

bool isIpLiteral(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') return true;
  for (char c : host) {
    if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

Result<GrpcTarget> grpcTargetFor(const std::vector<std::string>& urls, std::string_view key) {
  const std::string name(key);
  if (urls.empty()) return Error::invalid(name + ": required");
  std::vector<std::pair<std::string, std::string>> hosts;  // host, port
  GrpcTarget target;
  for (size_t i = 0; i < urls.size(); ++i) {
    std::string_view url = urls[i];
    bool tls = false;
    if (url.rfind("https://", 0) == 0) {
      tls = true;
      url.remove_prefix(8);
    } else if (url.rfind("http://", 0) == 0) {
      url.remove_prefix(7);
    } else {
      return Error::invalid(name + "[" + std::to_string(i) + "]: \"" + std::string(url) +
                            "\" is not an http:// or https:// URL");
    }
    if (i > 0 && tls != target.tls) return Error::invalid(name + ": mixes http:// and https://");
    target.tls = tls;
    url = url.substr(0, url.find('/'));
    size_t colon = url.rfind(':');
    bool has_port =
        colon != std::string_view::npos && url.find(']', colon) == std::string_view::npos;
    std::string host(has_port ? url.substr(0, colon) : url);
    std::string port = has_port ? std::string(url.substr(colon + 1)) : (tls ? "443" : "80");
    if (host.empty()) return Error::invalid(name + "[" + std::to_string(i) + "]: no host");
    hosts.emplace_back(host, port);
  }
  if (hosts.size() == 1) {
    target.target = "dns:///" + hosts[0].first + ":" + hosts[0].second;
    return target;
  }
  if (target.tls) {
    const std::string& first = hosts[0].first;
    target.tls_name = first.front() == '[' ? first.substr(1, first.size() - 2) : first;
  }
  bool v6 = hosts[0].first.front() == '[';
  target.target = v6 ? "ipv6:" : "ipv4:";
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (!isIpLiteral(hosts[i].first) || (hosts[i].first.front() == '[') != v6) {
      return Error::invalid(name +
                            ": several URLs must all be IPv4 or all IPv6 addresses; "
                            "use one DNS name that resolves to every address instead");
    }
    if (i > 0) target.target += ",";
    target.target += hosts[i].first + ":" + hosts[i].second;
  }
  return target;
}

}  // namespace gatehouse::databroker
