#include "daemon/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testing/temp_dir.h"

namespace dbbackup::daemon {
namespace {

TEST(AuthTest, TokenFileCreatedOnceWithMode0600) {
  testing::ScopedTempDir dir;
  const std::string file = dir.File("api-token");
  EXPECT_EQ(LoadToken("", file, false).status().code(), StatusCode::kNotFound);
  auto t = LoadToken("", file, true);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 32u);
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*LoadToken("", file, true), *t);
  EXPECT_EQ(*LoadToken("", file, false), *t);
  EXPECT_EQ(*LoadToken("from-env", file, false), "from-env");
}

TEST(AuthTest, EmptyTokenFileIsAnError) {
  testing::ScopedTempDir dir;
  const std::string file = dir.File("api-token");
  FILE* f = std::fopen(file.c_str(), "w");
  std::fputs(" \n", f);
  std::fclose(f);
  EXPECT_EQ(LoadToken("", file, true).status().code(), StatusCode::kInvalidArgument);
}

TEST(AuthTest, StateDirDefault) {
  EXPECT_EQ(StateDir(""), "./.dbbackup-state");
  EXPECT_EQ(StateDir("/var/lib/dbbackup"), "/var/lib/dbbackup");
  EXPECT_EQ(DefaultTokenFile("/s"), "/s/api-token");
}

TEST(AuthTest, ParseListen) {
  auto a = ParseListen("127.0.0.1:8780");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8780);
  EXPECT_EQ(ParseListen(":9000")->host, "127.0.0.1");
  EXPECT_EQ(ParseListen("9000")->port, 9000);
  EXPECT_EQ(ParseListen("[::1]:80")->host, "::1");
  EXPECT_EQ(ParseListen("0.0.0.0:0")->port, 0);
  for (const char* bad : {"", "host:", "host:x", "host:70000", "[::1]80"}) {
    EXPECT_EQ(ParseListen(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AuthTest, LoopbackAndTokenCompare) {
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("127.1.2.3"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_TRUE(IsLoopback("localhost"));
  EXPECT_FALSE(IsLoopback("0.0.0.0"));
  EXPECT_FALSE(IsLoopback("10.0.0.1"));
  EXPECT_TRUE(TokenEquals("abc", "abc"));
  EXPECT_FALSE(TokenEquals("abc", "abd"));
  EXPECT_FALSE(TokenEquals("abc", "abcd"));
  EXPECT_FALSE(TokenEquals("", "a"));
}

}  // namespace
}  // namespace dbbackup::daemon
