#pragma once
// The OAuth `state` parameter of one login: where the login started and
// what the callback must check, sealed with `cookie_secret` so that neither
// the browser nor the IdP can read or alter it, bound to the browser's CSRF
// cookie and time-limited.
//
//   state = csrf "." issued "." seal(cookie_secret, payload, ad = csrf "." issued)
//
// `csrf` is the random token also held in the `_pomerium_csrf` cookie; the
// callback refuses a state whose token is not the cookie's (login CSRF).
// The PKCE verifier is not in the state: it stays in a cookie of its own,
// so that a stolen code and state are useless without the browser.

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/aead.h"

namespace gatehouse::authenticate {

struct LoginState {
  std::string csrf;    // base64url, 32 random bytes
  int64_t issued = 0;  // Unix seconds
  std::string idp_id;
  std::string nonce;          // sent to the IdP, checked in the ID token
  bool pkce = false;          // a PKCE verifier cookie was set
  std::string sign_in_query;  // the verified query of the sign-in request

  // How long a login may take at the IdP.
  static constexpr std::chrono::minutes kLifetime{10};

  std::string encode(const crypto::Aead& cookie_cipher) const;
  // Fails (kInvalidArgument) for anything not made by encode() with the
  // same key, and for a state older than kLifetime or from the future.
  static Result<LoginState> decode(std::string_view state, const crypto::Aead& cookie_cipher,
                                   std::chrono::system_clock::time_point now);
};

// The name of the cookie that holds the PKCE verifier of the login whose
// state is `state`: several logins in one browser do not overwrite each
// other's verifier.
std::string pkceCookieName(std::string_view state);

}  // namespace gatehouse::authenticate
