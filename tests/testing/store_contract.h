// The ObjectStore contract suite: one set of tests (object_store.h's
// contract) run over every backend, as litestream does. A backend joins by
// instantiating the suite with a factory:
//
//   #include "testing/store_contract.h"
//
//   DBB_INSTANTIATE_STORE_CONTRACT(
//       S3Rgw, ::dbbackup::testing::StoreFactory{
//                  .name = "s3_rgw",
//                  .make = [] { return std::unique_ptr<store::ObjectStore>(...); },
//                  .make_with_page_size = [](size_t n) { ... max_keys = n ... },
//                  .skip_reason = [] { ... "" when the server is configured ... },
//              });
//
// Use the macro, or (with `using ::dbbackup::testing::ObjectStoreContractTest;`)
// a plain INSTANTIATE_TEST_SUITE_P passing ::dbbackup::testing::StoreFactoryName
// as its name generator: the tests live in the
// dbb_testing static library, and that reference is what links them into the
// test binary. A binary that links this file without instantiating the suite
// is fine (GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST is set).
//
// Every test works under its own fresh key prefix ("contract/<test>-<random>/")
// and deletes what it wrote, so backends that share a bucket between tests or
// runs are fine. The suite requires real time (last-modified within a day of
// now) and checks that the etag of a small single Put is its hex MD5.
//
// Beyond object_store.h, the suite pins down: a Put whose body fails returns
// the body's status code; keys that validation.h rejects are kInvalidArgument
// in every backend; List pages never exceed the page size.
//
// Thread-safety: gtest runs the tests one at a time; factories are called from
// the test thread.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/object_store.h"

namespace dbbackup::testing {

struct StoreFactory {
  // Shown in test names: ASCII letters, digits and '_' only.
  std::string name;
  // A new store over the backend. Called once per test from SetUp, which then
  // calls CheckReady() on it. Returning nullptr fails the test.
  std::function<std::unique_ptr<store::ObjectStore>()> make;
  // Optional: a store over the same backend whose List pages hold at most
  // `page_size` keys, so that pagination is tested with few keys. When empty,
  // the pagination test writes default_page_size + 1 keys through `make`.
  std::function<std::unique_ptr<store::ObjectStore>(size_t page_size)> make_with_page_size;
  // The page size of `make`'s stores. Default: 1000 (as S3).
  size_t default_page_size = 1000;
  // Optional: a non-empty result skips every test with that message (e.g. an
  // unconfigured S3 server). Return "" when the backend was explicitly
  // required: `make` must then fail loudly instead of the tests skipping.
  std::function<std::string()> skip_reason;
};

// The name generator for INSTANTIATE_TEST_SUITE_P: the factory's name.
std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info);

class ObjectStoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The key `name` under this test's private prefix.
  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }

  std::unique_ptr<store::ObjectStore> store_;
  std::string prefix_;  // "contract/<test>-<random>/"
};

}  // namespace dbbackup::testing

// Runs the contract suite over the given StoreFactory values. Use at namespace
// scope outside dbbackup::testing (gtest pastes the suite name into
// identifiers, so the macro brings it into scope with a using-declaration).
#define DBB_INSTANTIATE_STORE_CONTRACT(instantiation_name, ...)         \
  using ::dbbackup::testing::ObjectStoreContractTest;                   \
  INSTANTIATE_TEST_SUITE_P(instantiation_name, ObjectStoreContractTest, \
                           ::testing::Values(__VA_ARGS__), ::dbbackup::testing::StoreFactoryName)
