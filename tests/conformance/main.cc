#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "conformance/harness.h"

// The suite's own binary doubles as the helper process of the multi-process
// tests: `databroker_conformance_tests --helper MODE ...`.
int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--helper") == 0) {
    return gatehouse::databroker::testing::runHelper(argc, argv);
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
