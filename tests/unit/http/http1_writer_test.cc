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

TEST(HeadWriter, WritesAfterWhatIsThereAndCutsToWhatWasWritten) {
  std::string out = "kept|";
  const std::string long_value(300, 'v');
  {
    HeadWriter w(out, 9 + 20 + 2 + (4 + 300 + HeadWriter::kFieldExtra) + 2);
    w.put("HTTP/1.1 ").put(uint64_t{18446744073709551615u}).put("\r\n");
    w.field("name", long_value);
    w.put("\r\n");
    w.done();
  }
  EXPECT_EQ(out, "kept|HTTP/1.1 18446744073709551615\r\nname: " + long_value + "\r\n\r\n");

  // A buffer reused for a shorter head keeps nothing of the longer one.
  out.clear();
  HeadWriter w(out, 64);
  w.put("GET / HTTP/1.1\r\n").put(uint64_t{0}).put("\r\n");
  w.done();
  EXPECT_EQ(out, "GET / HTTP/1.1\r\n0\r\n");
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
