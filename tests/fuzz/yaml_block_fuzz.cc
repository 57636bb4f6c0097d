// Holds the two YAML readings together: whenever the line reader of the
// plain block subset (YamlNode::parseBlock) accepts a document, libyaml
// must accept it too and read the same tree, scalar by scalar.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "config/yaml_node.h"

using gatehouse::config::YamlNode;
using gatehouse::config::YamlParse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<YamlNode> block = YamlNode::parseBlock(text);
  if (!block) return 0;
  YamlParse events = YamlNode::parseEvents(text);
  if (events.error) {
    std::fprintf(stderr, "the block reader accepted what libyaml refuses: %s\n",
                 events.error->message.c_str());
    std::abort();
  }
  if (!block->sameTree(events.root)) {
    std::fprintf(stderr, "the block reader and libyaml read different trees\n");
    std::abort();
  }
  return 0;
}
