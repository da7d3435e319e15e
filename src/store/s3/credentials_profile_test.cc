// INI parsing of the shared AWS files and profile selection, on temp files.
#include "store/s3/credentials_profile.h"

#include <gtest/gtest.h>

#include "env/file_util.h"
#include "testing/temp_dir.h"

namespace dbbackup::store::s3 {
namespace {

TEST(ParseIniTest, SectionsKeysCommentsAndNestedBlocks) {
  Result<IniSections> ini = ParseIni(
      "# a comment\n"
      "; another\n"
      "[default]\n"
      "aws_access_key_id = AKID  # trailing comment\n"
      "AWS_Secret_Access_Key=se#cret\n"
      "\n"
      "[profile dev]\r\n"
      "region = eu-west-1 ; comment\r\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  addressing_style = path\n"
      "output = json\n"
      "[default]\n"
      "region=us-west-2\n",
      "cfg");
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  EXPECT_EQ((*ini)["default"]["aws_access_key_id"], "AKID");
  EXPECT_EQ((*ini)["default"]["aws_secret_access_key"], "se#cret");  // no space before '#'
  EXPECT_EQ((*ini)["default"]["region"], "us-west-2");               // merged section
  EXPECT_EQ((*ini)["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ((*ini)["profile dev"]["s3"], "");
  EXPECT_EQ((*ini)["profile dev"].count("max_concurrent_requests"), 0u);
  EXPECT_EQ((*ini)["profile dev"]["output"], "json");
}

TEST(ParseIniTest, ErrorsNameFileAndLineButNeverTheLine) {
  Result<IniSections> ini =
      ParseIni("[default]\nwJalrXUtnFEMI/K7MDENG\n", "/home/u/.aws/credentials");
  ASSERT_FALSE(ini.ok());
  EXPECT_EQ(ini.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ini.status().message().find("/home/u/.aws/credentials line 2"), std::string::npos);
  EXPECT_EQ(ini.status().message().find("wJalr"), std::string::npos);
  EXPECT_FALSE(ParseIni("key = v\n", "f").ok());        // outside a section
  EXPECT_FALSE(ParseIni("[default\nk=v\n", "f").ok());  // unclosed header
}

TEST(ProfileNameTest, AwsProfileThenDefaultProfileThenDefault) {
  bool set = true;
  EXPECT_EQ(ProfileName({}, &set), "default");
  EXPECT_FALSE(set);
  EXPECT_EQ(ProfileName({{"AWS_DEFAULT_PROFILE", "b"}}, &set), "b");
  EXPECT_TRUE(set);
  EXPECT_EQ(ProfileName({{"AWS_PROFILE", "a"}, {"AWS_DEFAULT_PROFILE", "b"}}), "a");
}

class SharedConfigTest : public ::testing::Test {
 protected:
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(env::MakeDirs(dir_.File(".aws")).ok());
    ASSERT_TRUE(env::WriteFileAtomic(dir_.File(name), text).ok());
  }
  testing::ScopedTempDir dir_;
};

TEST_F(SharedConfigTest, ReadsHomeFilesAndMergesCredentialsOverConfig) {
  Write(".aws/credentials", "[default]\naws_access_key_id=CREDKEY\naws_secret_access_key=s1\n");
  Write(".aws/config",
        "[default]\nregion=eu-central-1\naws_access_key_id=CONFIGKEY\n"
        "[profile dev]\naws_access_key_id=DEVKEY\naws_secret_access_key=s2\n"
        "[dev]\naws_access_key_id=IGNORED\n"
        "[sso-session x]\nsso_region=us-east-1\n");
  Result<SharedConfig> sc = LoadSharedConfig({}, dir_.path().string());
  ASSERT_TRUE(sc.ok()) << sc.status().ToString();
  auto def = sc->Find("default");
  ASSERT_TRUE(def);
  EXPECT_EQ(def->Get("aws_access_key_id"), "CREDKEY");
  EXPECT_EQ(def->Get("region"), "eu-central-1");
  EXPECT_EQ(def->origin, dir_.File(".aws/credentials"));
  auto dev = sc->Find("dev");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->Get("aws_access_key_id"), "DEVKEY");
  EXPECT_EQ(dev->origin, dir_.File(".aws/config"));
  EXPECT_FALSE(sc->Find("x"));
  EXPECT_FALSE(sc->Find("sso-session x"));
}

TEST_F(SharedConfigTest, ProfileRegion) {
  Write(".aws/config", "[default]\nregion=eu-west-1\n[profile dev]\noutput=json\n");
  EXPECT_EQ(*ProfileRegion({}, dir_.path().string()), "eu-west-1");
  EXPECT_EQ(*ProfileRegion({{"AWS_PROFILE", "dev"}}, dir_.path().string()), "");
  EXPECT_EQ(*ProfileRegion({{"AWS_PROFILE", "none"}}, dir_.path().string()), "");
}

TEST_F(SharedConfigTest, FileVariablesOverrideHome) {
  Write("creds", "[p]\naws_access_key_id=A\n");
  Write("conf", "[profile q]\nregion=r\n");
  Write(".aws/credentials", "[home]\naws_access_key_id=H\n");
  Result<SharedConfig> sc = LoadSharedConfig(
      {{"AWS_SHARED_CREDENTIALS_FILE", dir_.File("creds")}, {"AWS_CONFIG_FILE", dir_.File("conf")}},
      dir_.path().string());
  ASSERT_TRUE(sc.ok());
  EXPECT_TRUE(sc->Find("p"));
  EXPECT_TRUE(sc->Find("q"));
  EXPECT_FALSE(sc->Find("home"));
}

TEST_F(SharedConfigTest, MissingFilesAreEmptyMalformedOnesAreErrors) {
  Result<SharedConfig> sc = LoadSharedConfig({}, dir_.path().string());
  ASSERT_TRUE(sc.ok());
  EXPECT_FALSE(sc->Find("default"));
  Write(".aws/config", "[default]\nthis line is broken\n");
  sc = LoadSharedConfig({}, dir_.path().string());
  ASSERT_FALSE(sc.ok());
  EXPECT_EQ(sc.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dbbackup::store::s3
