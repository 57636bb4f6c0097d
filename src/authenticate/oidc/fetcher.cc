#include "authenticate/oidc/fetcher.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/ssl/context.hpp>

#include "authenticate/oidc/http_url.h"
#include "http/http1_upstream.h"
#include "net/stream_factory.h"
#include "net/tls.h"

namespace gatehouse::authenticate::oidc {
namespace {

constexpr std::string_view kUserAgent = "Gatehouse";

// Whatever went wrong on the way to the identity provider, a later attempt
// may succeed: the callers decide how often to try again.
Error unavailable(const FetchRequest& request, const Error& cause) {
  return Error{
      ErrorCode::kUnavailable, ErrorSource::kUpstream,
      request.method + " " + std::string(urlForMessages(request.url)) + ": " + cause.message, true};
}

}  // namespace

Result<std::shared_ptr<NetFetcher>> NetFetcher::create(const NetFetcherOptions& options) {
  net::ClientTlsOptions tls_options;
  tls_options.skip_verify = options.skip_verify;
  tls_options.custom_ca_pem = options.extra_ca_pem;
  auto tls = net::ClientTlsContext::create(tls_options);
  if (!tls) {
    Error error = tls.error();
    error.message = "certificate_authority: " + error.message;
    return error;
  }
  if (!options.extra_ca_pem.empty()) {
    // ClientTlsContext trusts only a custom CA when it has one; an identity
    // provider's private CA is trusted in addition to the system roots
    // (Pomerium's certificate_authority adds to the system pool). The
    // context is not shared with anyone yet, so it may still be changed.
    SSL_CTX_set_default_verify_paths((*tls)->context().native_handle());
  }
  return std::shared_ptr<NetFetcher>(new NetFetcher(options, std::move(*tls)));
}

Task<Result<FetchResponse>> NetFetcher::fetch(FetchRequest request) {
  auto url = parseHttpUrl(request.url);
  if (!url) {
    Error error = url.error();
    error.message = std::string(urlForMessages(request.url)) + ": " + error.message;
    co_return error;
  }

  const net::Clock::time_point deadline = net::Clock::now() + options_.exchange_timeout;
  auto remaining = [&deadline]() {
    return std::max(deadline - net::Clock::now(),
                    net::Clock::duration(std::chrono::milliseconds(1)));
  };

  auto socket = co_await net::connectTcp(
      url->host, url->port, std::min<net::Clock::duration>(options_.connect_timeout, remaining()));
  if (!socket) co_return unavailable(request, socket.error());
  std::unique_ptr<net::Stream> stream;
  if (url->scheme == "https") {
    auto tls = co_await net::connectTls(std::move(*socket), tls_, url->host, remaining());
    if (!tls) co_return unavailable(request, tls.error());
    stream = std::move(*tls);
  } else {
    stream = net::makeTcpStream(std::move(*socket));
  }

  // No pool: the connection closes when the exchange ends.
  auto exchange = http::makeHttp1UpstreamExchange(
      std::make_unique<http::Http1UpstreamConnection>(std::move(stream)), nullptr);
  exchange->setTimeouts(remaining(), remaining());

  http::RequestHead head;
  head.method = request.method;
  head.scheme = url->scheme;
  head.authority = url->authority;
  head.target = url->target;
  head.headers = std::move(request.headers);
  if (!head.headers.has("user-agent")) head.headers.add("User-Agent", kUserAgent);
  head.has_body = !request.body.empty() || request.method == "POST";
  if (head.has_body) head.content_length = request.body.size();

  if (auto sent = exchange->sendHead(head, request.body.size()); !sent) {
    co_return unavailable(request, sent.error());
  }
  if (auto sent = co_await exchange->sendBody(request.body); !sent) {
    co_return unavailable(request, sent.error());
  }
  // From here on the rest of the budget bounds the response as a whole.
  exchange->setTimeouts(remaining(), remaining());
  if (auto sent = co_await exchange->finishRequest(); !sent) {
    co_return unavailable(request, sent.error());
  }
  auto response_head = co_await exchange->readResponse();
  if (!response_head) co_return unavailable(request, response_head.error());

  FetchResponse response;
  response.status = response_head->status;
  response.headers = std::move(response_head->headers);
  const Error too_large{ErrorCode::kTooLarge, ErrorSource::kUpstream,
                        request.method + " " + std::string(urlForMessages(request.url)) +
                            ": response body larger than " +
                            std::to_string(options_.max_body_bytes) + " bytes",
                        false};
  if (auto length = exchange->responseLength(); length && *length > options_.max_body_bytes) {
    co_return too_large;
  }
  while (exchange->responseHasBody()) {
    auto piece = co_await exchange->readBody();
    if (!piece) co_return unavailable(request, piece.error());
    if (piece->empty()) break;
    if (piece->size() > options_.max_body_bytes - response.body.size()) co_return too_large;
    response.body.append(*piece);
  }
  co_return response;
}

}  // namespace gatehouse::authenticate::oidc
