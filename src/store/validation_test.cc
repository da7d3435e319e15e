#include "store/validation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dbbackup::store {
namespace {

TEST(ValidateKeyTest, AcceptsOrdinaryKeys) {
  for (const std::string& key : std::vector<std::string>{
           "a", "backups/full/20240113_120000/database.db.gz", "with space/ü/+=~", ".hidden",
           "a/.b", "..a", "a..", "x.meta.jsonx", "meta.json", "a/b.meta", std::string(245, 'k')}) {
    EXPECT_TRUE(ValidateKey(key).ok()) << key << ": " << ValidateKey(key).ToString();
  }
}

TEST(ValidateKeyTest, RejectsBadShapes) {
  for (const std::string& key : std::vector<std::string>{
           "", "/abs", "a//b", "a/", "/", ".", "..", "../x", "a/../b", "a/./b", "x.meta.json",
           "dir.meta.json/x", ".dbbackup-tmp", ".dbbackup-tmp-123", "a/.dbbackup-tmpx/b",
           std::string("nul\0byte", 8), std::string(246, 'k'), std::string(1025, 'k')}) {
    Status s = ValidateKey(key);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "\"" << key << "\"";
  }
  // The length limit is on the whole key too.
  std::string long_key;
  while (long_key.size() < 1030) long_key += "abcdefghi/";
  EXPECT_EQ(ValidateKey(long_key + "x").code(), StatusCode::kInvalidArgument);
}

TEST(ValidateMetadataTest, Rules) {
  EXPECT_TRUE(ValidateMetadata({}).ok());
  EXPECT_TRUE(ValidateMetadata({{"sha256", "ab"}, {"x-1", ""}, {"k", "printable ~!"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"", "v"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"Upper", "v"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"under_score", "v"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"k", "line\nbreak"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"k", "caf\xc3\xa9"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"k", std::string(2048, 'v')}}).ok());
  EXPECT_TRUE(ValidateMetadata({{"k", std::string(2047, 'v')}}).ok());
}

}  // namespace
}  // namespace dbbackup::store
