#include "env/work_dir.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "env/file_util.h"

namespace dbbackup::env {
namespace {

class WorkDirTest : public ::testing::Test {
 protected:
  WorkDirTest() {
    std::string templ = (std::filesystem::temp_directory_path() / "dbb-workdir-XXXXXX").string();
    EXPECT_NE(::mkdtemp(templ.data()), nullptr);
    parent_ = templ;
  }
  ~WorkDirTest() override {
    std::error_code ec;
    std::filesystem::remove_all(parent_, ec);
  }
  std::string parent_;
};

TEST_F(WorkDirTest, RemovedWithItsContent) {
  std::string path;
  {
    auto w = WorkDir::Create(parent_, "op-");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    path = w->path();
    ASSERT_TRUE(WriteFileAtomic(w->File("data"), "x").ok());
    EXPECT_TRUE(PathExists(w->File("data")));
  }
  EXPECT_FALSE(PathExists(path));
}

TEST_F(WorkDirTest, LiveDirectoriesAreNotCollected) {
  auto w = WorkDir::Create(parent_, "op-");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(WorkDir::RemoveStale(parent_, "op-"), 0);
  EXPECT_TRUE(PathExists(w->path()));
}

// A collector running while directories are being created never takes a
// live one: its lock file exists only once it is locked.
TEST_F(WorkDirTest, CollectingBesideCreationNeverTakesALiveDirectory) {
  std::atomic<bool> done{false};
  std::thread collector([&] {
    while (!done) WorkDir::RemoveStale(parent_, "op-");
  });
  int lost = 0;
  for (int i = 0; i < 3000; ++i) {
    auto w = WorkDir::Create(parent_, "op-");
    if (!w.ok() || !WriteFileAtomic(w->File("spool"), "data").ok()) ++lost;
  }
  done = true;
  collector.join();
  EXPECT_EQ(lost, 0);
}

TEST_F(WorkDirTest, DirectoriesOfDeadProcessesAreCollected) {
  // A child creates a work dir and dies without cleaning up (as on SIGKILL).
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = WorkDir::Create(parent_, "op-");
    if (!w.ok()) ::_exit(1);
    (void)WriteFileAtomic(w->File("spool"), "leftover");
    ::_exit(0);  // no destructors: the directory stays behind
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  size_t before = 0;
  for (const auto& e : std::filesystem::directory_iterator(parent_)) {
    (void)e;
    ++before;
  }
  ASSERT_EQ(before, 1u);
  EXPECT_EQ(WorkDir::RemoveStale(parent_, "other-"), 0);
  EXPECT_EQ(WorkDir::RemoveStale(parent_, "op-"), 1);
  EXPECT_TRUE(std::filesystem::is_empty(parent_));
}

TEST_F(WorkDirTest, MissingParentIsNotFound) {
  auto w = WorkDir::Create(parent_ + "/nope", "op-");
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace dbbackup::env
