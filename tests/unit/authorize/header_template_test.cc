#include "authorize/header_template.h"

#include <gtest/gtest.h>

#include "unit/authorize/test_util.h"

namespace gatehouse::authorize {
namespace {

struct Case {
  std::string_view in;
  std::string_view out;
};

class HeaderTemplateTest : public ::testing::Test {
 protected:
  std::string render(std::string_view text) {
    header_views_.clear();
    for (const auto& [name, value] : headers_) header_views_.emplace_back(name, value);
    header_list_ = policy::HeaderList(header_views_);
    Identity identity = user_.identity();
    return HeaderTemplate::compile(text).render({.identity = &identity,
                                                 .jwt = "JWT",
                                                 .client_cert_fingerprint = "FP",
                                                 .request_headers = &header_list_});
  }

  testing::User user_;
  std::vector<std::pair<std::string, std::string>> headers_ = {{"X-Access-Token", "INCOMING"}};
  std::vector<policy::HeaderList::Header> header_views_;
  policy::HeaderList header_list_;
};

TEST_F(HeaderTemplateTest, PomeriumsVariablesAndEscapes) {
  Case cases[] = {
      {"x $$ y $$ z", "x $ y $ z"},
      {"${pomerium.access_token}", "ACCESS"},
      {"$pomerium.access_token", "ACCESS"},
      {"${pomerium.id_token}", "ID"},
      {"Bearer ${pomerium.jwt}", "Bearer JWT"},
      {"before $pomerium.jwt after", "before JWT after"},
      {"before ${   pomerium  .  jwt  } after", "before JWT after"},
      {"${pomerium.client_cert_fingerprint}", "FP"},
      {R"(From ${pomerium.request.headers["X-Access-Token"]})", "From INCOMING"},
      {"$pomerium.request.headers.x-access-token", "INCOMING"},
      {"${pomerium.request.headers.X-Absent}", ""},
      {"${unknown.thing} and $HOME", " and "},
      {"plain text", "plain text"},
      {"cost: $", "cost: $"},
      {"$ 5", "$ 5"},
      {"${", "${"},
      {"${}", "${}"},
      {R"(${x["})", R"(${x["})"},
      {"${pomerium.jwt", "${pomerium.jwt"},
      {"$pomerium.jwt.", "$pomerium.jwt."},
      {"a$$$pomerium.jwt", "a$JWT"},
  };
  for (const auto& c : cases) EXPECT_EQ(render(c.in), c.out) << c.in;
}

TEST_F(HeaderTemplateTest, NoSessionRendersEmptyTokens) {
  auto compiled = HeaderTemplate::compile("[${pomerium.access_token}]");
  EXPECT_EQ(compiled.render({}), "[]");
}

TEST(HeaderTemplate, KnowsWhetherItNeedsTheJwt) {
  EXPECT_TRUE(HeaderTemplate::compile("Bearer ${pomerium.jwt}").usesJwt());
  EXPECT_FALSE(HeaderTemplate::compile("$pomerium.id_token").usesJwt());
  EXPECT_TRUE(HeaderTemplate::compile("a $$ b").isLiteral());
  EXPECT_FALSE(HeaderTemplate::compile("$x").isLiteral());
}

}  // namespace
}  // namespace gatehouse::authorize
