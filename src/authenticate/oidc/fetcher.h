#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/result.h"
#include "http/headers.h"
#include "net/asio.h"

namespace gatehouse::net {
class ClientTlsContext;
}

namespace gatehouse::authenticate::oidc {

// One HTTP request to an identity provider: discovery, JWKS, token,
// userinfo and revocation endpoints. `url` is absolute (http or https).
struct FetchRequest {
  std::string method = "GET";
  std::string url;
  http::Headers headers;
  std::string body;
};

// The complete response; `body` is bounded by the fetcher's limit.
struct FetchResponse {
  int status = 0;
  http::Headers headers;
  std::string body;
};

// How Gatehouse talks to identity providers; an interface so that tests
// serve canned documents. One Fetcher is shared by every worker thread:
// implementations must allow concurrent fetch() calls from different
// threads, each running on its caller's executor.
class Fetcher {
 public:
  virtual ~Fetcher() = default;

  // Performs one request and returns the response whatever its status.
  // A network failure, a timeout or an over-long body is an Error:
  // kUnavailable (retryable) for the network and timeouts, kTooLarge for
  // the body, kInvalidArgument for a URL that cannot be fetched. Redirects
  // are returned, never followed.
  virtual Task<Result<FetchResponse>> fetch(FetchRequest request) = 0;
};

struct NetFetcherOptions {
  // PEM certificates trusted in addition to the system's roots
  // (certificate_authority), for identity providers behind a private CA.
  std::string extra_ca_pem;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // The whole exchange, connect included.
  std::chrono::milliseconds exchange_timeout{std::chrono::seconds(30)};
  size_t max_body_bytes = size_t{1} << 20;
  // Certificate checks are on unless a test turns them off.
  bool skip_verify = false;
};

// The Fetcher over Gatehouse's own stack: net::connectTcp, net::connectTls
// and the HTTP/1.1 upstream client. One new connection per request (logins
// and refreshes are rare; no pool to keep per worker), closed afterwards.
class NetFetcher final : public Fetcher {
 public:
  // Fails when `extra_ca_pem` does not parse.
  static Result<std::shared_ptr<NetFetcher>> create(const NetFetcherOptions& options);

  Task<Result<FetchResponse>> fetch(FetchRequest request) override;

 private:
  NetFetcher(NetFetcherOptions options, std::shared_ptr<const net::ClientTlsContext> tls)
      : options_(std::move(options)), tls_(std::move(tls)) {}

  const NetFetcherOptions options_;
  const std::shared_ptr<const net::ClientTlsContext> tls_;  // immutable, shared by all threads
};

}  // namespace gatehouse::authenticate::oidc
