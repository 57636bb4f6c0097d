// Which route authorize decides for: the proxy names it by index and id,
// and authorize takes the index as it is only when the proxy matched it in
// authorize's own configuration object.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "authorize/service.h"
#include "common/base64.h"
#include "config/loader.h"

namespace gatehouse::authorize {
namespace {

using Kind = CheckResponse::Kind;

const std::string kPublic =
    "  - from: https://public.example.com\n"
    "    to: http://upstream.example.com\n"
    "    allow_public_unauthenticated_access: true\n";
const std::string kPrivate =
    "  - from: https://private.example.com\n"
    "    to: http://upstream.example.com\n"
    "    allowed_users: [alice@example.com]\n";

std::shared_ptr<const State> stateOf(const std::string& routes) {
  std::string secret = base64Encode(std::string(32, 'k'));
  auto loaded = config::loadText("shared_secret: " + secret + "\nroutes:\n" + routes, "/tmp", {});
  EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  auto state = State::create(std::make_shared<const config::Options>(*loaded.options), nullptr);
  EXPECT_TRUE(state.ok()) << state.error().message;
  return *state;
}

CheckResponse decide(const std::shared_ptr<const State>& state, uint32_t index, std::string_view id,
                     const config::Options* matched_in) {
  Service service([state] { return state; }, nullptr);
  CheckRequest request;
  request.route_index = index;
  request.route_id = id;
  request.options = matched_in;
  request.method = "GET";
  request.scheme = "https";
  request.path = "/";
  request.client_ip = "10.0.0.1";
  if (auto now = service.checkNow(request)) return *now;
  asio::io_context io;
  auto future = asio::co_spawn(io, service.check(request), asio::use_future);
  io.run();
  return future.get();
}

class ServiceRoute : public ::testing::Test {
 protected:
  // The same two routes in the other order: a reload that moved them.
  std::shared_ptr<const State> before_ = stateOf(kPublic + kPrivate);
  std::shared_ptr<const State> after_ = stateOf(kPrivate + kPublic);
  std::string public_id_ = before_->options().routes[0].id;
};

TEST_F(ServiceRoute, IdsOfTheSameRouteMatchAcrossConfigurations) {
  ASSERT_EQ(after_->options().routes[1].id, public_id_);
  ASSERT_NE(after_->options().routes[0].id, public_id_);
}

TEST_F(ServiceRoute, TheSameConfigurationObjectTakesTheIndex) {
  EXPECT_EQ(decide(before_, 0, public_id_, &before_->options()).kind, Kind::kAllow);
  // The private route at index 0 of its own configuration.
  CheckResponse denied = decide(after_, 0, after_->options().routes[0].id, &after_->options());
  EXPECT_NE(denied.kind, Kind::kAllow);
  EXPECT_NE(denied.status, 503) << denied.details;
}

TEST_F(ServiceRoute, ARouteMatchedInAnotherConfigurationIsFoundByItsId) {
  // Matched as index 0 before the reload; index 0 is the private route now.
  EXPECT_EQ(decide(after_, 0, public_id_, &before_->options()).kind, Kind::kAllow);
  // As the proxy asks: the id is read from the configuration it matched in.
  EXPECT_EQ(decide(after_, 0, "", &before_->options()).kind, Kind::kAllow);
  // The same over gRPC, where no configuration object travels.
  EXPECT_EQ(decide(after_, 0, public_id_, nullptr).kind, Kind::kAllow);
  EXPECT_EQ(decide(after_, 7, public_id_, nullptr).kind, Kind::kAllow);
}

TEST_F(ServiceRoute, TheRouteIdComesFromTheRequestElseFromItsConfiguration) {
  CheckRequest request;
  request.route_index = 1;
  EXPECT_EQ(request.routeId(), "");
  request.options = &after_->options();
  EXPECT_EQ(request.routeId(), public_id_);
  request.route_index = 2;
  EXPECT_EQ(request.routeId(), "");
  request.route_id = "given";
  EXPECT_EQ(request.routeId(), "given");
  // Neither an id nor a configuration: refused.
  EXPECT_EQ(decide(after_, 0, "", nullptr).status, 503);
}

TEST_F(ServiceRoute, ARouteNoLongerConfiguredIsRefusedWith503) {
  for (const config::Options* matched_in : {&before_->options(), (const config::Options*)nullptr}) {
    CheckResponse gone = decide(after_, 0, "no-such-route", matched_in);
    EXPECT_EQ(gone.kind, Kind::kError);
    EXPECT_EQ(gone.status, 503);
    EXPECT_EQ(decide(after_, 9, "no-such-route", matched_in).status, 503);
  }
}

}  // namespace
}  // namespace gatehouse::authorize
