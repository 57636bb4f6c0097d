// Session inputs a client controls: the session handle (cookie, header,
// programmatic JWT), the sealed handle of the login callback, the OAuth
// state, query strings, Cookie headers and redirect URLs; and session
// records, whose schedule the session copy reads without building the
// record. The first byte picks the parser; none may crash, hang or read out
// of bounds, a handle that verifies must sign back to one that verifies,
// and the schedule read alone must be the one of the whole record.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "authenticate/login_state.h"
#include "session/cookie.h"
#include "session/handle.h"
#include "session/records.h"
#include "session/urls.h"

using namespace gatehouse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const session::HandleCodec codec = *session::HandleCodec::create(std::string(32, 'k'));
  static const crypto::Aead cipher =
      *crypto::Aead::create(crypto::AeadAlgorithm::kXChaCha20Poly1305, std::string(32, 'c'));
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0: {
      auto handle = codec.verify(input);
      if (handle) {
        auto again = codec.verify(codec.sign(*handle));
        if (!again || again->session_id != handle->session_id) __builtin_trap();
      }
      break;
    }
    case 1:
      (void)codec.open(input);
      break;
    case 2:
      (void)authenticate::LoginState::decode(input, cipher,
                                             std::chrono::system_clock::time_point{});
      break;
    case 3: {
      auto params = session::parseQuery(input);
      (void)session::encodeQuery(params);
      break;
    }
    case 4:
      (void)session::findCookies(input, "_pomerium");
      break;
    case 5:
      (void)session::parseAbsoluteUrl(input);
      break;
    case 6: {
      auto whole = session::Session::fromJson(input);
      auto alone = session::Schedule::fromJson(input);
      if (whole.ok() != alone.ok()) __builtin_trap();
      if (whole && !(session::Schedule::of(*whole) == *alone)) __builtin_trap();
      break;
    }
  }
  return 0;
}
