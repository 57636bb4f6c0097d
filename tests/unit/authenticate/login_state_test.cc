#include "authenticate/login_state.h"

#include <gtest/gtest.h>

namespace gatehouse::authenticate {
namespace {

using namespace std::chrono_literals;

crypto::Aead cipher(char fill) {
  return *crypto::Aead::create(crypto::AeadAlgorithm::kXChaCha20Poly1305, std::string(32, fill));
}

LoginState sample(std::chrono::system_clock::time_point now) {
  LoginState s;
  s.csrf = "Y3NyZi10b2tlbi1mb3ItdGhlLXRlc3QtMDEyMzQ1Njc4OQ";
  s.issued = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  s.idp_id = "abc";
  s.nonce = "n0nce";
  s.pkce = true;
  s.sign_in_query = "pomerium_redirect_uri=https%3A%2F%2Fapp%2F&x=1";
  return s;
}

TEST(LoginStateTest, RoundTrip) {
  auto now = std::chrono::system_clock::now();
  auto key = cipher('k');
  std::string state = sample(now).encode(key);
  auto back = LoginState::decode(state, key, now + 1min);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->csrf, sample(now).csrf);
  EXPECT_EQ(back->nonce, "n0nce");
  EXPECT_TRUE(back->pkce);
  EXPECT_EQ(back->idp_id, "abc");
  EXPECT_EQ(back->sign_in_query, sample(now).sign_in_query);
}

TEST(LoginStateTest, ExpiredFutureTamperedAndForeignAreRefused) {
  auto now = std::chrono::system_clock::now();
  auto key = cipher('k');
  std::string state = sample(now).encode(key);
  EXPECT_FALSE(LoginState::decode(state, key, now + 11min).ok());
  EXPECT_FALSE(LoginState::decode(state, key, now - 5min).ok());
  EXPECT_FALSE(LoginState::decode(state, cipher('o'), now).ok());
  for (size_t i = 0; i < state.size(); i += 3) {
    std::string changed = state;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(LoginState::decode(changed, key, now).ok()) << i;
  }
  // Another browser's CSRF token in front of this sealed payload.
  std::string swapped =
      "b3RoZXItYnJvd3Nlci10b2tlbi0wMTIzNDU2Nzg5MDEyMzQ" + state.substr(state.find('.'));
  EXPECT_FALSE(LoginState::decode(swapped, key, now).ok());
  for (std::string_view bad : {"", ".", "..", "a.b.c", "a.1.", "a.x.b"}) {
    EXPECT_FALSE(LoginState::decode(bad, key, now).ok()) << bad;
  }
}

TEST(LoginStateTest, PkceCookieNamePerState) {
  EXPECT_NE(pkceCookieName("a"), pkceCookieName("b"));
  EXPECT_EQ(pkceCookieName("a").rfind("_pomerium_pkce_", 0), 0u);
}

}  // namespace
}  // namespace gatehouse::authenticate
