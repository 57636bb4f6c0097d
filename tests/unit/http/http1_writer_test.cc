#include "http/http1_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::http {
namespace {

std::string bytesOf(const BodyPieceBuffers& piece) {
  std::string out;
  for (const auto& b : piece.buffers()) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(BodyPieceBuffers, APlainPieceFollowsTheHead) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  std::string scratch;
  EXPECT_EQ(bytesOf(BodyPieceBuffers(head, scratch, "hello", false)), head + "hello");
  EXPECT_EQ(bytesOf(BodyPieceBuffers(head, scratch, "hello", false, true)), head + "hello");
}

TEST(BodyPieceBuffers, AChunkedPieceIsFramedAndTheLastOneEndsTheBody) {
  std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string scratch;
  std::string body(26, 'x');
  EXPECT_EQ(bytesOf(BodyPieceBuffers(head, scratch, body, true)), head + "1a\r\n" + body + "\r\n");
  EXPECT_EQ(bytesOf(BodyPieceBuffers("", scratch, body, true, true)),
            "1a\r\n" + body + "\r\n0\r\n\r\n");
  // No empty chunk: it would end the body before the terminator.
  EXPECT_EQ(bytesOf(BodyPieceBuffers(head, scratch, "", true, true)), head + "0\r\n\r\n");
  EXPECT_EQ(bytesOf(BodyPieceBuffers("", scratch, "", true, false)), "");
}

}  // namespace
}  // namespace gatehouse::http
