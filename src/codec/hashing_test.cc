#include "codec/hashing.h"

#include <gtest/gtest.h>

#include <string>

namespace dbbackup::codec {
namespace {

TEST(HasherTest, Sha256KnownAnswers) {
  // FIPS 180-2 appendix B examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Hasher h(HashAlgorithm::kSha256);
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.Update(chunk);
  EXPECT_EQ(h.FinalHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HasherTest, Md5KnownAnswers) {
  // RFC 1321 test suite.
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST(HasherTest, IncrementalEqualsOneShotAndFinalRestarts) {
  Hasher h(HashAlgorithm::kSha256);
  h.Update("a");
  h.Update("");
  h.Update("bc");
  EXPECT_EQ(h.FinalHex(), Sha256Hex("abc"));
  // After Final the hasher starts a new, empty message.
  EXPECT_EQ(h.FinalHex(), Sha256Hex(""));
  h.Update("abc");
  EXPECT_EQ(h.FinalBytes().size(), 32u);
  EXPECT_EQ(Hasher(HashAlgorithm::kMd5).FinalBytes().size(), 16u);
}

TEST(HasherTest, MoveKeepsState) {
  Hasher a(HashAlgorithm::kMd5);
  a.Update("ab");
  Hasher b(std::move(a));
  b.Update("c");
  EXPECT_EQ(b.FinalHex(), Md5Hex("abc"));
  EXPECT_EQ(b.algorithm(), HashAlgorithm::kMd5);
}

TEST(HashingReaderTest, FeedsEveryByteToEveryHasher) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7919 % 251);
  StringReader source(data);
  Hasher sha(HashAlgorithm::kSha256);
  Hasher md5(HashAlgorithm::kMd5);
  HashingReader reader(source, {&sha, &md5});
  // Odd-sized reads cross every internal boundary.
  std::string out;
  char buf[997];
  for (;;) {
    Result<size_t> k = reader.Read(buf, sizeof(buf));
    ASSERT_TRUE(k.ok());
    if (*k == 0) break;
    out.append(buf, *k);
  }
  EXPECT_EQ(out, data);
  EXPECT_EQ(reader.count(), data.size());
  EXPECT_EQ(sha.FinalHex(), Sha256Hex(data));
  EXPECT_EQ(md5.FinalHex(), Md5Hex(data));
}

TEST(ToHexTest, LowerCase) { EXPECT_EQ(ToHex(std::string("\x00\xab\xff", 3)), "00abff"); }

}  // namespace
}  // namespace dbbackup::codec
