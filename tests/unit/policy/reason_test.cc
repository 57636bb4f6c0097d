#include "policy/reason.h"

#include <gtest/gtest.h>

#include <set>

namespace gatehouse::policy {
namespace {

TEST(Reasons, EveryReasonHasAUniqueName) {
  std::set<std::string_view> seen;
  for (int i = 0; i < static_cast<int>(Reason::kCount); ++i) {
    std::string_view name = toString(static_cast<Reason>(i));
    EXPECT_FALSE(name.empty()) << i;
    EXPECT_TRUE(seen.insert(name).second) << name;
  }
  EXPECT_EQ(toString(Reason::kUserUnauthenticated), "user-unauthenticated");
  EXPECT_EQ(toString(Reason::kClientCertificateRequired), "client-certificate-required");
  EXPECT_EQ(toString(Reason::kCount), "");
}

TEST(Reasons, SetOperations) {
  Reasons r;
  EXPECT_TRUE(r.empty());
  r.add(Reason::kEmailOk);
  r.add(Reason::kAccept);
  r.add(Reason::kEmailOk);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_TRUE(r.has(Reason::kAccept));
  EXPECT_FALSE(r.has(Reason::kReject));
  Reasons other = Reason::kReject;
  EXPECT_EQ((r | other).size(), 3u);
  // Sorted like Pomerium's Reasons.Strings().
  EXPECT_EQ((r | other).toString(), "accept, email-ok, reject");
}

}  // namespace
}  // namespace gatehouse::policy
