#include "store/s3/crypto.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dbbackup::store::s3 {
namespace {

TEST(Crypto, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Crypto, ContentMd5IsBase64OfRawDigest) {
  // The Content-MD5 of "hello" as S3 documents it.
  EXPECT_EQ(Base64Encode(Md5("hello")), "XUFAKrxLKna5cZ2REBfFkg==");
  EXPECT_EQ(HexEncode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(Crypto, Base64Padding) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
}

TEST(Crypto, Base64DecodeRoundTripsAndRejectsGarbage) {
  for (const std::string& s :
       std::vector<std::string>{"f", "fo", "foo", "foob", std::string(32, '\xff')}) {
    std::optional<std::string> back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(Base64Decode("").has_value());
  EXPECT_FALSE(Base64Decode("Zg=").has_value());    // not a multiple of 4
  EXPECT_FALSE(Base64Decode("Z=g=").has_value());   // padding inside
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());  // not base64
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace dbbackup::store::s3
