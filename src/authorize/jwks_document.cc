#include "authorize/jwks_document.h"

#include <cstdio>

namespace gatehouse::authorize {

uint64_t fnv1Hash64(std::string_view data) {
  uint64_t hash = 14695981039346656037ULL;
  for (char c : data) {
    hash *= 1099511628211ULL;
    hash ^= static_cast<unsigned char>(c);
  }
  return hash;
}

JwksDocument JwksDocument::build(const crypto::SigningKey& keys) {
  JwksDocument document;
  document.body = keys.jwksJson();
  char etag[24];
  std::snprintf(etag, sizeof(etag), "\"%llx\"",
                static_cast<unsigned long long>(fnv1Hash64(document.body)));
  document.etag = etag;
  return document;
}

}  // namespace gatehouse::authorize
