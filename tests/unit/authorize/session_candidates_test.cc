// Where authorize looks for session handles: every session cookie first,
// in order, then the handles sent in headers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "authorize/service.h"
#include "unit/authorize_grpc/list_headers.h"

namespace gatehouse::authorize {
namespace {

using ::testing::ElementsAre;
using Headers = ::gatehouse::testing::ListHeaders;

TEST(SessionCandidates, CookiesComeFirstThenTheHandlesInHeaders) {
  Headers headers({{"Authorization", "Pomerium from-authorization"},
                   {"cookie", "a=1; _pomerium=first"},
                   {"X-Pomerium-Authorization", "  from-x-header "},
                   {"Cookie", "_pomerium=\"second\""},
                   {"authorization", "Bearer Pomerium-from-bearer"}});
  std::vector<std::string_view> out;
  bool from_header = false;
  sessionCandidates(headers, "_pomerium", out, from_header);
  EXPECT_THAT(out,
              ElementsAre("first", "second", "from-authorization", "from-x-header", "from-bearer"));
  EXPECT_TRUE(from_header);
}

TEST(SessionCandidates, CookiesAloneAreNotFromAHeader) {
  Headers headers({{"cookie", "_pomerium=only"},
                   {"authorization", "Basic dXNlcjpwYXNz"},
                   {"cookie", "_pomerium_csrf=x"}});
  std::vector<std::string_view> out;
  bool from_header = true;
  sessionCandidates(headers, "_pomerium", out, from_header);
  EXPECT_THAT(out, ElementsAre("only"));
  EXPECT_FALSE(from_header);
}

}  // namespace
}  // namespace gatehouse::authorize
