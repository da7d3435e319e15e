#include "store/local_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "env/file_util.h"
#include "store/md5.h"
#include "testing/temp_dir.h"

namespace dbbackup::store {
namespace {

namespace fs = std::filesystem;
using ::dbbackup::testing::ScopedTempDir;

constexpr int64_t kT0 = 1705147200;  // 2024-01-13 12:00:00 UTC

class LocalStoreTest : public ::testing::Test {
 protected:
  LocalStoreTest()
      : clock_(std::chrono::system_clock::time_point(std::chrono::seconds(kT0))),
        root_(tmp_.File("root")) {
    auto s = LocalObjectStore::Open(LocalStoreOptions{.root = root_, .clock = &clock_});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  Result<ObjectInfo> Put(const std::string& key, std::string data, const PutOptions& opts = {}) {
    StringReader r(std::move(data));
    return store_->Put(key, r, opts);
  }

  // Every file below root_, relative, sorted.
  std::vector<std::string> FilesOnDisk() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_directory()) out.push_back(fs::relative(it->path(), root_).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  void WriteRaw(const std::string& rel, const std::string& data) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << data;
  }

  ScopedTempDir tmp_;
  env::FakeClock clock_;
  std::string root_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_F(LocalStoreTest, KeyIsAPathUnderRootWithASidecar) {
  const std::string key = "backups/full/20240113_120000/database.db.gz";
  PutOptions opts;
  opts.content_type = "application/gzip";
  opts.metadata = {{"sha256", "abc"}, {"db", "main"}};
  auto put = Put(key, "compressed bytes", opts);
  ASSERT_TRUE(put.ok()) << put.status().ToString();

  EXPECT_EQ(FilesOnDisk(), (std::vector<std::string>{key, key + ".meta.json"}));
  auto data = env::ReadFileToString(root_ + "/" + key);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "compressed bytes");

  auto text = env::ReadFileToString(root_ + "/" + key + ".meta.json");
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["format"], 1);
  EXPECT_EQ(j["size"], 16);
  EXPECT_EQ(j["etag"], Md5Hex("compressed bytes"));
  EXPECT_EQ(j["content_type"], "application/gzip");
  EXPECT_EQ(j["last_modified"], kT0);
  EXPECT_EQ(j["metadata"], nlohmann::json({{"sha256", "abc"}, {"db", "main"}}));
  EXPECT_EQ(j.size(), 6u) << *text;

  auto head = store_->Head(key);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->last_modified_unix, kT0);
  EXPECT_EQ(put->last_modified_unix, kT0);
}

TEST_F(LocalStoreTest, FilesArePrivate) {
  ASSERT_TRUE(Put("d/obj", "x").ok());
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/d/obj").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((root_ + "/d/obj.meta.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((root_ + "/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(LocalStoreTest, RejectsKeysThatCouldEscapeRoot) {
  for (const std::string& key :
       std::vector<std::string>{"../x", "/abs", "a//b", "x.meta.json", "a/../../x", "a/./b",
                                ".dbbackup-tmp-1", "d/.dbbackup-tmp-x/y", "", "a/", "..", "."}) {
    SCOPED_TRACE("key \"" + key + "\"");
    EXPECT_EQ(Put(key, "x").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Get(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Head(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Delete(key).code(), StatusCode::kInvalidArgument);
  }
  // Nothing was written anywhere: not in root, not beside it.
  EXPECT_FALSE(fs::exists(root_));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp_.path()), fs::directory_iterator()), 0);
}

TEST_F(LocalStoreTest, TempFilesOfAnInterruptedPutAreInvisible) {
  ASSERT_TRUE(Put("dir/real", "real").ok());
  // What a crash mid-Put leaves behind, and a sidecar whose data was deleted.
  WriteRaw("dir/.dbbackup-tmp-a1b2c3", "half a body");
  WriteRaw("dir/.dbbackup-tmp-d4e5f6", "{\"format\": 1");
  WriteRaw(".dbbackup-tmp-zzzzzz", "at the root");
  WriteRaw("dir/orphan.meta.json", R"({"format":1,"size":3,"etag":"","content_type":"",
                                      "last_modified":0,"metadata":{}})");
  auto list = ListAll(*store_, "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "dir/real");
  EXPECT_EQ(store_->Head("dir/orphan").status().code(), StatusCode::kNotFound);
  auto dir_list = store_->List("dir/", "");
  ASSERT_TRUE(dir_list.ok());
  EXPECT_EQ(dir_list->objects.size(), 1u);
}

TEST_F(LocalStoreTest, FailedPutRemovesItsTemporaries) {
  class Failing : public Reader {
   public:
    Result<size_t> Read(void* buf, size_t n) override {
      if (sent_ > 0) return Status::IOError("source died");
      std::memset(buf, 'x', n);
      sent_ = n;
      return n;
    }
    size_t sent_ = 0;
  } body;
  ASSERT_TRUE(Put("dir/other", "o").ok());
  auto r = store_->Put("dir/obj", body, {});
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_EQ(FilesOnDisk(), (std::vector<std::string>{"dir/other", "dir/other.meta.json"}));
}

TEST_F(LocalStoreTest, RemoveStaleTemporariesCollectsCrashLeftovers) {
  ASSERT_TRUE(Put("keep/obj", "data").ok());
  WriteRaw("keep/.dbbackup-tmp-old1", "stale");
  WriteRaw("gone/deep/.dbbackup-tmp-old2", "stale");
  WriteRaw("keep/.dbbackup-tmp-new", "a Put in progress");
  auto set_mtime = [&](const std::string& rel, int64_t unix) {
    struct timespec times[2] = {{unix, 0}, {unix, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/" + rel).c_str(), times, 0), 0);
  };
  set_mtime("keep/.dbbackup-tmp-old1", kT0 - 7200);
  set_mtime("gone/deep/.dbbackup-tmp-old2", kT0 - 7200);
  set_mtime("keep/.dbbackup-tmp-new", kT0 - 60);
  set_mtime("keep/obj", kT0 - 7200);  // objects are never touched, however old

  auto removed = store_->RemoveStaleTemporaries(std::chrono::hours(1));
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(FilesOnDisk(),
            (std::vector<std::string>{"keep/.dbbackup-tmp-new", "keep/obj", "keep/obj.meta.json"}));
  EXPECT_FALSE(fs::exists(root_ + "/gone"));
  EXPECT_TRUE(fs::is_directory(root_));
}

TEST_F(LocalStoreTest, DeletePrunesEmptyDirectoriesButNotRoot) {
  ASSERT_TRUE(Put("a/b/c/obj", "1").ok());
  ASSERT_TRUE(Put("a/b/sibling", "2").ok());
  ASSERT_TRUE(store_->Delete("a/b/c/obj").ok());
  EXPECT_FALSE(fs::exists(root_ + "/a/b/c"));
  EXPECT_TRUE(fs::exists(root_ + "/a/b/sibling"));
  ASSERT_TRUE(store_->Delete("a/b/sibling").ok());
  EXPECT_FALSE(fs::exists(root_ + "/a"));
  EXPECT_TRUE(fs::is_directory(root_));
  ASSERT_TRUE(Put("top", "3").ok());
  ASSERT_TRUE(store_->Delete("top").ok());
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_TRUE(FilesOnDisk().empty());
}

TEST_F(LocalStoreTest, DataFileWithoutSidecarIsAnObject) {
  WriteRaw("manual/copied.db", "hand-copied");
  auto head = store_->Head("manual/copied.db");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 11u);
  EXPECT_EQ(head->etag, "");
  EXPECT_TRUE(head->metadata.empty());
  EXPECT_GT(head->last_modified_unix, 0);
  auto r = store_->Get("manual/copied.db");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*ReadAll(**r), "hand-copied");
  auto list = ListAll(*store_, "manual/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].size, 11u);
}

TEST_F(LocalStoreTest, BrokenSidecarIsCorruptionForHeadButListStillWorks) {
  ASSERT_TRUE(Put("bad/json", "data").ok());
  ASSERT_TRUE(Put("bad/size", "data").ok());
  ASSERT_TRUE(Put("bad/format", "data").ok());
  WriteRaw("bad/json.meta.json", "{not json");
  WriteRaw("bad/size.meta.json", R"({"format":1,"size":99,"etag":"e","content_type":"",
                                     "last_modified":0,"metadata":{}})");
  WriteRaw("bad/format.meta.json", R"({"format":2,"size":4,"etag":"e","content_type":"",
                                       "last_modified":0,"metadata":{}})");
  for (const char* key : {"bad/json", "bad/size", "bad/format"}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(store_->Head(key).status().code(), StatusCode::kCorruption);
    EXPECT_TRUE(store_->Get(key).ok());
  }
  auto list = ListAll(*store_, "bad/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  for (const auto& o : *list) {
    EXPECT_EQ(o.size, 4u);
    EXPECT_EQ(o.etag, "");
  }
}

TEST_F(LocalStoreTest, AKeyCannotBeBothAnObjectAndADirectory) {
  ASSERT_TRUE(Put("a", "file").ok());
  EXPECT_EQ(Put("a/b", "below a file").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Put("x/y", "below x").ok());
  EXPECT_EQ(Put("x", "over a directory").status().code(), StatusCode::kFailedPrecondition);
  auto list = ListAll(*store_, "");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  EXPECT_EQ(FilesOnDisk(), (std::vector<std::string>{"a", "a.meta.json", "x/y", "x/y.meta.json"}));
}

TEST_F(LocalStoreTest, SymlinksAreNotObjects) {
  ASSERT_TRUE(Put("real", "r").ok());
  fs::create_symlink(root_ + "/real", root_ + "/link");
  fs::create_directories(tmp_.File("outside"));
  std::ofstream(tmp_.File("outside/secret")) << "s";
  fs::create_directory_symlink(tmp_.File("outside"), root_ + "/linkdir");
  EXPECT_EQ(store_->Head("link").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("link").status().code(), StatusCode::kNotFound);
  auto list = ListAll(*store_, "");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "real");
}

TEST_F(LocalStoreTest, RangePastTheEndIsInvalid) {
  ASSERT_TRUE(Put("r", "0123456789").ok());
  EXPECT_EQ(store_->Get("r", ByteRange{.offset = 11}).status().code(),
            StatusCode::kInvalidArgument);
  auto at_end = store_->Get("r", ByteRange{.offset = 10});
  ASSERT_TRUE(at_end.ok());
  EXPECT_EQ(*ReadAll(**at_end), "");
}

TEST_F(LocalStoreTest, ReaderSurvivesOverwriteAndDelete) {
  ASSERT_TRUE(Put("o", "old content").ok());
  auto r = store_->Get("o");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(Put("o", "new").ok());
  ASSERT_TRUE(store_->Delete("o").ok());
  EXPECT_EQ(*ReadAll(**r), "old content");
}

TEST_F(LocalStoreTest, ReaderReportsAFileThatShrank) {
  WriteRaw("shrinks", "0123456789");  // by hand, so truncating it in place is possible
  auto r = store_->Get("shrinks");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(::truncate((root_ + "/shrinks").c_str(), 4), 0);
  auto all = ReadAll(**r);
  EXPECT_EQ(all.status().code(), StatusCode::kCorruption);
}

TEST_F(LocalStoreTest, CheckReadyCreatesRoot) {
  EXPECT_FALSE(fs::exists(root_));
  ASSERT_TRUE(store_->CheckReady().ok());
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_TRUE(FilesOnDisk().empty());  // the probe file is gone
}

TEST_F(LocalStoreTest, CheckReadyFailsClearly) {
  std::ofstream(tmp_.File("a-file")) << "x";
  auto on_file = LocalObjectStore::Open(LocalStoreOptions{.root = tmp_.File("a-file")});
  ASSERT_TRUE(on_file.ok());
  Status s = (*on_file)->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("a-file"), std::string::npos) << s.message();

  if (::geteuid() == 0) return;  // root ignores permission bits
  fs::create_directories(tmp_.File("ro"));
  fs::permissions(tmp_.File("ro"), fs::perms::owner_read | fs::perms::owner_exec);
  auto ro = LocalObjectStore::Open(LocalStoreOptions{.root = tmp_.File("ro")});
  ASSERT_TRUE(ro.ok());
  s = (*ro)->CheckReady();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("ro"), std::string::npos) << s.message();
  auto below = LocalObjectStore::Open(LocalStoreOptions{.root = tmp_.File("ro/sub")});
  ASSERT_TRUE(below.ok());
  EXPECT_EQ((*below)->CheckReady().code(), StatusCode::kPermissionDenied);
  fs::permissions(tmp_.File("ro"), fs::perms::owner_all);
}

TEST_F(LocalStoreTest, OpenValidatesOptionsAndResolvesRoot) {
  EXPECT_EQ(LocalObjectStore::Open(LocalStoreOptions{.root = ""}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalObjectStore::Open(LocalStoreOptions{.root = "x", .page_size = 0}).status().code(),
            StatusCode::kInvalidArgument);
  auto s = LocalObjectStore::Open(LocalStoreOptions{.root = tmp_.File("dir") + "/./sub/"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->root(), tmp_.File("dir") + "/sub");
  EXPECT_EQ((*s)->Describe(), "file://" + tmp_.File("dir") + "/sub");
  auto rel = LocalObjectStore::Open(LocalStoreOptions{});
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ((*rel)->root(), (fs::current_path() / "backups-local").string());
}

TEST_F(LocalStoreTest, ListSkipsSubtreesBeforeTheToken) {
  for (const char* k : {"a/1", "a/2", "b/1", "b/2", "c/1"}) ASSERT_TRUE(Put(k, "v").ok());
  auto page = store_->List("", "b/1");
  ASSERT_TRUE(page.ok());
  std::vector<std::string> keys;
  for (const auto& o : page->objects) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"b/2", "c/1"}));
  // A token that is not a key still orders correctly.
  page = store_->List("", "a/15");
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->objects.empty());
  EXPECT_EQ(page->objects[0].key, "a/2");
}

}  // namespace
}  // namespace dbbackup::store
