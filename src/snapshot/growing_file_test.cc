// GrowingFile: reads wait for the writer; the integrity check of a file that
// is still being written agrees with the check of the finished file, and
// fails (never hangs) when the writer stops short.
#include "snapshot/growing_file.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "snapshot/database_check.h"
#include "snapshot/test_util.h"

namespace dbbackup::snapshot {
namespace {

using testing::MakeDb;
using testing::ScratchDir;
using testing::TestDb;

TEST(GrowingFileTest, WaitForReportsWhatTheWriterGot) {
  GrowingFile g(1000);
  g.Advance(400);
  EXPECT_TRUE(g.WaitFor(400));
  EXPECT_TRUE(g.WaitFor(0));
  g.Advance(1000);
  // Past the end counts as the end: SQLite reads whole pages.
  EXPECT_TRUE(g.WaitFor(5000));

  GrowingFile short_file(1000);
  short_file.Advance(10);
  short_file.Close();
  EXPECT_TRUE(short_file.WaitFor(10));
  EXPECT_FALSE(short_file.WaitFor(11));
}

TEST(GrowingFileTest, AWaitingReaderWakesOnAdvanceAndOnClose) {
  GrowingFile g(100);
  bool got = false;
  std::thread reader([&] { got = g.WaitFor(50); });
  g.Advance(50);
  reader.join();
  EXPECT_TRUE(got);

  got = true;
  std::thread late([&] { got = g.WaitFor(100); });
  g.Close();
  late.join();
  EXPECT_FALSE(got);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Tables and indexes of several kinds, so the split check has parts to run.
std::string MakeSource(const ScratchDir& dir) {
  const std::string path = dir.File("source.db");
  MakeDb(path, 3000, 200);
  TestDb db(path);
  db.Exec("CREATE INDEX items_payload ON items(payload)");
  db.Exec("CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID");
  db.Exec("INSERT INTO kv SELECT 'key' || id, id % 13 FROM items WHERE id <= 1000");
  db.Exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  db.Exec("INSERT INTO notes SELECT id, 'note ' || id FROM items WHERE id <= 2000");
  return path;
}

// Writes `content` to `path` front to back in `chunk`-byte writes and stops
// (closing `g`) after `stop_at` bytes. Each chunk is announced only once a
// reader waits for more (or the check is over), so the readers really run
// ahead of the writer, as they do behind a download.
void WriteGrowing(const std::string& path, const std::string& content, GrowingFile& g, size_t chunk,
                  size_t stop_at, const std::atomic<bool>& check_done) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  size_t done = 0;
  while (done < std::min(stop_at, content.size())) {
    const size_t n = std::min({chunk, content.size() - done, stop_at - done});
    out.write(content.data() + done, static_cast<std::streamsize>(n));
    out.flush();
    done += n;
    while (g.waiting() == 0 && !check_done) std::this_thread::yield();
    g.Advance(done);
  }
  g.Close();
}

class GrowingCheckTest : public ::testing::TestWithParam<int> {
 protected:
  // Checks `content` as it is written to a new file; stops after `stop_at`.
  Status CheckWhileWriting(const ScratchDir& dir, const std::string& content,
                           size_t stop_at = std::string::npos) {
    const std::string path = dir.File("growing.db");
    { std::ofstream touch(path, std::ios::binary); }
    GrowingFile g(content.size());
    Status result;
    std::atomic<bool> done{false};
    std::thread checker([&] {
      IntegrityCheckOptions opts;
      opts.threads = GetParam();
      opts.growing = &g;
      result = IntegrityCheck(path, opts);
      done = true;
    });
    WriteGrowing(path, content, g, 8192, stop_at, done);
    checker.join();
    return result;
  }
};

INSTANTIATE_TEST_SUITE_P(Threads, GrowingCheckTest, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Threads" + std::to_string(info.param);
                         });

TEST_P(GrowingCheckTest, HealthyFileIsOkWhileItArrives) {
  ScratchDir dir;
  const std::string content = ReadFile(MakeSource(dir));
  ASSERT_GT(content.size(), 200u * 1024);
  Status st = CheckWhileWriting(dir, content);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_P(GrowingCheckTest, DamageIsFoundAsInTheFinishedFile) {
  ScratchDir dir;
  const std::string source = MakeSource(dir);
  std::string content = ReadFile(source);
  // A b-tree page header in the middle of the file, overwritten.
  const size_t page = content.size() / 4096 / 2;
  for (size_t i = 0; i < 16; ++i) content[page * 4096 + i] = static_cast<char>(0xff - i);
  Status st = CheckWhileWriting(dir, content);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
}

TEST_P(GrowingCheckTest, WriterStoppingShortFailsTheCheck) {
  ScratchDir dir;
  const std::string content = ReadFile(MakeSource(dir));
  Status st = CheckWhileWriting(dir, content, content.size() / 2);
  EXPECT_FALSE(st.ok());
  // Also when not even the header arrived.
  Status none = CheckWhileWriting(dir, content, 0);
  EXPECT_FALSE(none.ok());
}

}  // namespace
}  // namespace dbbackup::snapshot
