#include "engine/retention.h"

#include <gtest/gtest.h>

namespace dbbackup::engine {
namespace {

using std::chrono::hours;

catalog::TimePoint Day(int d) {
  return catalog::TimePoint(std::chrono::seconds(1705147200)) + hours(24 * d);
}

std::vector<catalog::BackupEntry> Backups(std::initializer_list<int> days) {
  std::vector<catalog::BackupEntry> v;
  for (int d : days) {
    catalog::BackupEntry e;
    e.timestamp = Day(d);
    e.key = "backups/full/" + catalog::FormatKeyTimestamp(e.timestamp) + "/database.db.gz";
    v.push_back(e);
  }
  return v;
}

std::vector<catalog::TimePoint> Times(const std::vector<catalog::BackupEntry>& v) {
  std::vector<catalog::TimePoint> out;
  for (const auto& e : v) out.push_back(e.timestamp);
  return out;
}

TEST(RetentionTest, DeletesOnlyOlderThanRetention) {
  auto plan = PlanRetention(Backups({0, 10, 25, 31, 40}), {30, 1}, Day(40));
  EXPECT_EQ(Times(plan.remove), (std::vector{Day(0)}));
  EXPECT_EQ(Times(plan.keep), (std::vector{Day(40), Day(31), Day(25), Day(10)}));
}

TEST(RetentionTest, NeverDeletesTheNewestEvenWhenAllExpired) {
  // Backups stopped a month ago: the last good one must survive.
  auto plan = PlanRetention(Backups({0, 1, 2}), {30, 1}, Day(100));
  EXPECT_EQ(Times(plan.keep), (std::vector{Day(2)}));
  EXPECT_EQ(plan.remove.size(), 2u);
}

TEST(RetentionTest, MinKeepKeepsSeveral) {
  auto plan = PlanRetention(Backups({0, 1, 2, 3}), {30, 3}, Day(100));
  EXPECT_EQ(Times(plan.keep), (std::vector{Day(3), Day(2), Day(1)}));
  EXPECT_EQ(Times(plan.remove), (std::vector{Day(0)}));
}

TEST(RetentionTest, MinKeepBelowOneIsOne) {
  auto plan = PlanRetention(Backups({0}), {1, 0}, Day(100));
  EXPECT_EQ(plan.keep.size(), 1u);
}

TEST(RetentionTest, ZeroDaysKeepsEverything) {
  auto plan = PlanRetention(Backups({0, 1, 2}), {0, 1}, Day(1000));
  EXPECT_EQ(plan.keep.size(), 3u);
  EXPECT_TRUE(plan.remove.empty());
}

TEST(RetentionTest, ExactlyAtTheCutoffIsKept) {
  auto plan = PlanRetention(Backups({0, 30}), {30, 1}, Day(30));
  EXPECT_TRUE(plan.remove.empty());
}

TEST(RetentionTest, FutureTimestampsAreKept) {
  auto plan = PlanRetention(Backups({0, 500}), {30, 1}, Day(100));
  EXPECT_EQ(Times(plan.keep), (std::vector{Day(500)}));
  EXPECT_EQ(Times(plan.remove), (std::vector{Day(0)}));
}

TEST(RetentionTest, EmptyCatalog) {
  auto plan = PlanRetention({}, {30, 1}, Day(0));
  EXPECT_TRUE(plan.keep.empty());
  EXPECT_TRUE(plan.remove.empty());
}

}  // namespace
}  // namespace dbbackup::engine
