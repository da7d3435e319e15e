#include "testing/store_contract.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/io.h"
#include "store/md5.h"

namespace dbbackup::testing {
namespace {

using store::ByteRange;
using store::ListPage;
using store::Metadata;
using store::ObjectInfo;
using store::ObjectStore;
using store::PutOptions;

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

#define CONTRACT_ASSERT_OK(expr)                                                        \
  do {                                                                                  \
    const auto& contract_r_ = (expr);                                                   \
    ASSERT_TRUE(contract_r_.ok()) << #expr << ": " << StatusOf(contract_r_).ToString(); \
  } while (0)
#define CONTRACT_EXPECT_OK(expr)                                                        \
  do {                                                                                  \
    const auto& contract_r_ = (expr);                                                   \
    EXPECT_TRUE(contract_r_.ok()) << #expr << ": " << StatusOf(contract_r_).ToString(); \
  } while (0)
#define CONTRACT_EXPECT_CODE(expr, want_code)                 \
  do {                                                        \
    const auto& contract_r_ = (expr);                         \
    EXPECT_EQ(StatusOf(contract_r_).code(), want_code)        \
        << #expr << ": " << StatusOf(contract_r_).ToString(); \
  } while (0)

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Hands out its data in chunks of random size, as a network or codec stage
// would: a store must not treat a short read as the end.
class ChunkyReader : public Reader {
 public:
  ChunkyReader(std::string data, uint32_t seed) : data_(std::move(data)), rng_(seed) {}
  Result<size_t> Read(void* buf, size_t n) override {
    size_t chunk = std::uniform_int_distribution<size_t>(1, 64 * 1024)(rng_);
    size_t k = std::min({n, chunk, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, k, static_cast<char*>(buf));
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  std::mt19937 rng_;
};

// Serves `fail_after` bytes of `data`, then fails with `error`.
class FailingReader : public Reader {
 public:
  FailingReader(std::string data, size_t fail_after, Status error)
      : data_(std::move(data)), fail_after_(fail_after), error_(std::move(error)) {}
  Result<size_t> Read(void* buf, size_t n) override {
    if (pos_ >= fail_after_) return error_;
    size_t k = std::min({n, fail_after_ - pos_, data_.size() - pos_, size_t{32 * 1024}});
    std::copy_n(data_.data() + pos_, k, static_cast<char*>(buf));
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  size_t fail_after_;
  Status error_;
};

Result<ObjectInfo> PutString(ObjectStore& s, const std::string& key, std::string data,
                             const PutOptions& opts = {}) {
  StringReader r(std::move(data));
  return s.Put(key, r, opts);
}

Result<std::string> GetString(ObjectStore& s, const std::string& key,
                              std::optional<ByteRange> range = std::nullopt) {
  DBB_ASSIGN_OR_RETURN(std::unique_ptr<Reader> r, s.Get(key, range));
  return ReadAll(*r);
}

Result<std::vector<ObjectInfo>> ListUnder(ObjectStore& s, const std::string& prefix) {
  return store::ListAll(s, prefix);
}

// Keys of `objects` with `prefix` stripped.
std::vector<std::string> Names(const std::vector<ObjectInfo>& objects, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& o : objects) {
    out.push_back(o.key.starts_with(prefix) ? o.key.substr(prefix.size()) : "!" + o.key);
  }
  return out;
}

std::string RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(kHex[rd() % 16]);
  return s;
}

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void ObjectStoreContractTest::SetUp() {
  const StoreFactory& f = GetParam();
  if (f.skip_reason) {
    std::string why = f.skip_reason();
    if (!why.empty()) GTEST_SKIP() << f.name << ": " << why;
  }
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  test = test.substr(0, test.find('/'));
  prefix_ = "contract/" + test + "-" + RandomHex(12) + "/";
  ASSERT_TRUE(f.make) << f.name << ": no make function";
  store_ = f.make();
  ASSERT_NE(store_, nullptr) << f.name << ": the factory made no store";
  CONTRACT_ASSERT_OK(store_->CheckReady());
}

void ObjectStoreContractTest::TearDown() {
  if (store_ == nullptr || prefix_.empty()) return;
  auto left = ListUnder(*store_, prefix_);
  if (!left.ok()) return;
  for (const auto& o : *left) store_->Delete(o.key).IgnoreError();
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ObjectStoreContractTest);

TEST_P(ObjectStoreContractTest, DescribeNamesTheStore) { EXPECT_FALSE(store_->Describe().empty()); }

TEST_P(ObjectStoreContractTest, PutGetEmptyObject) {
  auto put = PutString(*store_, Key("empty"), "");
  CONTRACT_ASSERT_OK(put);
  EXPECT_EQ(put->size, 0u);
  EXPECT_EQ(put->etag, store::Md5Hex(""));
  auto got = GetString(*store_, Key("empty"));
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(*got, "");
  auto head = store_->Head(Key("empty"));
  CONTRACT_ASSERT_OK(head);
  EXPECT_EQ(head->size, 0u);
}

TEST_P(ObjectStoreContractTest, PutGetSmallObject) {
  const std::string data = "hello, object store\n";
  PutOptions opts;
  opts.metadata = {{"db-name", "main"}};
  auto put = PutString(*store_, Key("small.txt"), data, opts);
  CONTRACT_ASSERT_OK(put);
  EXPECT_EQ(put->size, data.size());
  EXPECT_EQ(put->etag, store::Md5Hex(data));
  EXPECT_EQ(put->metadata, opts.metadata);
  auto got = GetString(*store_, Key("small.txt"));
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(*got, data);
}

TEST_P(ObjectStoreContractTest, PutGetSeveralMiBWithShortReads) {
  const std::string data = RandomBytes((6 << 20) + 7, 42);
  ChunkyReader body(data, 7);
  auto put = store_->Put(Key("big/object.bin"), body, {});
  CONTRACT_ASSERT_OK(put);
  EXPECT_EQ(put->size, data.size());
  auto got = GetString(*store_, Key("big/object.bin"));
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(got->size(), data.size());
  EXPECT_TRUE(*got == data) << "content differs";
  auto head = store_->Head(Key("big/object.bin"));
  CONTRACT_ASSERT_OK(head);
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->etag, put->etag);
}

TEST_P(ObjectStoreContractTest, HeadReturnsSizeEtagTimeAndMetadata) {
  const std::string data = RandomBytes(1000, 1);
  PutOptions opts;
  opts.content_type = "application/gzip";
  // No empty values: some S3 servers drop empty headers.
  opts.metadata = {{"sha256", std::string(64, 'a')}, {"format-version", "1"}, {"x", "y"}};
  auto put = PutString(*store_, Key("meta/obj"), data, opts);
  CONTRACT_ASSERT_OK(put);
  auto head = store_->Head(Key("meta/obj"));
  CONTRACT_ASSERT_OK(head);
  EXPECT_EQ(head->key, Key("meta/obj"));
  EXPECT_EQ(head->size, 1000u);
  EXPECT_EQ(head->etag, store::Md5Hex(data));
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->metadata, opts.metadata);
  EXPECT_LT(std::llabs(head->last_modified_unix - NowUnix()), 86400)
      << "last_modified " << head->last_modified_unix;
}

TEST_P(ObjectStoreContractTest, MissingObjectIsNotFound) {
  CONTRACT_EXPECT_CODE(store_->Get(Key("nope")), StatusCode::kNotFound);
  CONTRACT_EXPECT_CODE(store_->Head(Key("nope")), StatusCode::kNotFound);
  CONTRACT_EXPECT_CODE(store_->Get(Key("nope"), ByteRange{.offset = 0, .length = 1}),
                       StatusCode::kNotFound);
  // A "directory" that holds objects is not an object, nor is a path below
  // an object.
  CONTRACT_ASSERT_OK(PutString(*store_, Key("dir/obj"), "x"));
  CONTRACT_EXPECT_CODE(store_->Head(Key("dir")), StatusCode::kNotFound);
  CONTRACT_EXPECT_CODE(store_->Get(Key("dir")), StatusCode::kNotFound);
  CONTRACT_EXPECT_CODE(store_->Head(Key("dir/obj/below")), StatusCode::kNotFound);
  CONTRACT_EXPECT_CODE(store_->Get(Key("dir/obj/below")), StatusCode::kNotFound);
}

TEST_P(ObjectStoreContractTest, RangeGet) {
  const std::string data = RandomBytes(10000, 3);
  CONTRACT_ASSERT_OK(PutString(*store_, Key("ranged"), data));
  struct Case {
    uint64_t offset;
    std::optional<uint64_t> length;
    std::string want;
  };
  const std::vector<Case> cases = {
      {0, 10000, data},
      {0, 1, data.substr(0, 1)},
      {1234, 100, data.substr(1234, 100)},
      {9999, 1, data.substr(9999)},
      {5000, std::nullopt, data.substr(5000)},
      {9000, 5000, data.substr(9000)},  // a length past the end stops at the end
  };
  for (const Case& c : cases) {
    auto got = GetString(*store_, Key("ranged"), ByteRange{.offset = c.offset, .length = c.length});
    CONTRACT_ASSERT_OK(got);
    EXPECT_TRUE(*got == c.want) << "offset " << c.offset << " length "
                                << (c.length ? std::to_string(*c.length) : "none") << ": got "
                                << got->size() << " bytes, want " << c.want.size();
  }
}

TEST_P(ObjectStoreContractTest, OverwriteReplacesContentAndMetadata) {
  PutOptions v1;
  v1.metadata = {{"version", "1"}, {"only-in-v1", "yes"}};
  PutOptions v2;
  v2.metadata = {{"version", "2"}};
  auto put1 = PutString(*store_, Key("obj"), "first version, longer", v1);
  CONTRACT_ASSERT_OK(put1);
  auto put2 = PutString(*store_, Key("obj"), "second", v2);
  CONTRACT_ASSERT_OK(put2);
  EXPECT_NE(put1->etag, put2->etag);
  auto got = GetString(*store_, Key("obj"));
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(*got, "second");
  auto head = store_->Head(Key("obj"));
  CONTRACT_ASSERT_OK(head);
  EXPECT_EQ(head->size, 6u);
  EXPECT_EQ(head->etag, put2->etag);
  EXPECT_EQ(head->metadata, v2.metadata);
  auto list = ListUnder(*store_, prefix_);
  CONTRACT_ASSERT_OK(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].size, 6u);
}

TEST_P(ObjectStoreContractTest, IfNoneMatchRefusesToReplace) {
  PutOptions create;
  create.if_none_match = true;
  create.metadata = {{"version", "1"}};
  CONTRACT_ASSERT_OK(PutString(*store_, Key("once"), "original", create));

  PutOptions again = create;
  again.metadata = {{"version", "2"}};
  CONTRACT_EXPECT_CODE(PutString(*store_, Key("once"), "replacement!", again),
                       StatusCode::kAlreadyExists);
  auto got = GetString(*store_, Key("once"));
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(*got, "original");
  auto head = store_->Head(Key("once"));
  CONTRACT_ASSERT_OK(head);
  EXPECT_EQ(head->size, 8u);
  EXPECT_EQ(head->etag, store::Md5Hex("original"));
  EXPECT_EQ(head->metadata, create.metadata);
}

TEST_P(ObjectStoreContractTest, FailingBodyLeavesNothingVisible) {
  const std::string data = RandomBytes(1 << 20, 5);
  for (size_t fail_after : {size_t{0}, size_t{100 * 1024}, data.size()}) {
    SCOPED_TRACE("body fails after " + std::to_string(fail_after) + " bytes");
    FailingReader body(data, fail_after, Status::Corruption("test body gave up"));
    auto put = store_->Put(Key("doomed/obj"), body, {});
    ASSERT_FALSE(put.ok());
    EXPECT_EQ(put.status().code(), StatusCode::kCorruption) << put.status().ToString();
    CONTRACT_EXPECT_CODE(store_->Head(Key("doomed/obj")), StatusCode::kNotFound);
    CONTRACT_EXPECT_CODE(store_->Get(Key("doomed/obj")), StatusCode::kNotFound);
    auto list = ListUnder(*store_, prefix_);
    CONTRACT_ASSERT_OK(list);
    EXPECT_TRUE(list->empty()) << "listed " << list->size() << " objects, first "
                               << (list->empty() ? "" : (*list)[0].key);
  }
}

TEST_P(ObjectStoreContractTest, FailingBodyKeepsThePreviousObject) {
  PutOptions opts;
  opts.metadata = {{"version", "1"}};
  CONTRACT_ASSERT_OK(PutString(*store_, Key("keep"), "the good version", opts));
  const std::string data = RandomBytes(300 * 1024, 6);
  FailingReader body(data, 200 * 1024, Status::Corruption("test body gave up"));
  PutOptions v2;
  v2.metadata = {{"version", "2"}};
  EXPECT_FALSE(store_->Put(Key("keep"), body, v2).ok());

  auto got = GetString(*store_, Key("keep"));
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(*got, "the good version");
  auto head = store_->Head(Key("keep"));
  CONTRACT_ASSERT_OK(head);
  EXPECT_EQ(head->size, 16u);
  EXPECT_EQ(head->etag, store::Md5Hex("the good version"));
  EXPECT_EQ(head->metadata, opts.metadata);
  auto list = ListUnder(*store_, prefix_);
  CONTRACT_ASSERT_OK(list);
  EXPECT_EQ(Names(*list, prefix_), std::vector<std::string>{"keep"});
}

TEST_P(ObjectStoreContractTest, ListIsInByteOrderWithSizes) {
  // '-' (0x2d) < '.' < '/' (0x2f) < '0': a directory walk that visits "a/"
  // as a unit before or after its siblings gets this wrong.
  std::vector<std::string> names = {"b", "a0", "a/y/z", "a/x", "a.b", "a-x", "A"};
  for (size_t i = 0; i < names.size(); ++i) {
    PutOptions opts;
    opts.metadata = {{"i", std::to_string(i)}};
    CONTRACT_ASSERT_OK(PutString(*store_, Key(names[i]), std::string(i + 1, 'x'), opts));
  }
  auto list = ListUnder(*store_, prefix_);
  CONTRACT_ASSERT_OK(list);
  std::vector<std::string> want = names;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Names(*list, prefix_), want);
  for (const ObjectInfo& o : *list) {
    size_t i = std::find(names.begin(), names.end(), o.key.substr(prefix_.size())) - names.begin();
    EXPECT_EQ(o.size, i + 1) << o.key;
    EXPECT_TRUE(o.metadata.empty()) << o.key << ": List must not fill metadata";
  }
}

TEST_P(ObjectStoreContractTest, ListFiltersByPrefix) {
  for (const char* name :
       {"dir/file1", "dir/file2", "dir/fig", "dir/sub/x", "dir2/a", "dirt", "other"}) {
    CONTRACT_ASSERT_OK(PutString(*store_, Key(name), name));
  }
  struct Case {
    std::string prefix;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"dir/", {"dir/fig", "dir/file1", "dir/file2", "dir/sub/x"}},
      {"dir", {"dir/fig", "dir/file1", "dir/file2", "dir/sub/x", "dir2/a", "dirt"}},
      {"dir/fi", {"dir/fig", "dir/file1", "dir/file2"}},
      {"dir/file", {"dir/file1", "dir/file2"}},
      {"dir/sub/", {"dir/sub/x"}},
      {"dirt", {"dirt"}},
      {"dir/sub/x", {"dir/sub/x"}},
      {"nothing-here", {}},
      {"dir/nothing/", {}},
  };
  for (const Case& c : cases) {
    auto list = ListUnder(*store_, Key(c.prefix));
    CONTRACT_ASSERT_OK(list);
    EXPECT_EQ(Names(*list, prefix_), c.want) << "prefix " << c.prefix;
  }
  auto page = store_->List(Key("nothing-here"), "");
  CONTRACT_ASSERT_OK(page);
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_P(ObjectStoreContractTest, ListPaginatesAcrossManyKeys) {
  const StoreFactory& f = GetParam();
  size_t page_size = f.default_page_size;
  std::unique_ptr<ObjectStore> paged;
  ObjectStore* s = store_.get();
  if (f.make_with_page_size) {
    page_size = 4;
    paged = f.make_with_page_size(page_size);
    ASSERT_NE(paged, nullptr);
    s = paged.get();
  }
  const size_t count = f.make_with_page_size ? 25 : page_size + 1;
  std::vector<std::string> want;
  for (size_t i = 0; i < count; ++i) {
    // Spread over "directories" so pages end inside and between them.
    char name[32];
    std::snprintf(name, sizeof(name), "p/%02zu/k%04zu", i % 7, i);
    want.push_back(name);
  }
  for (const auto& name : want) CONTRACT_ASSERT_OK(PutString(*s, Key(name), "v"));
  std::sort(want.begin(), want.end());

  std::vector<ObjectInfo> all;
  std::string token;
  size_t pages = 0;
  do {
    auto page = s->List(Key("p/"), token);
    CONTRACT_ASSERT_OK(page);
    ++pages;
    ASSERT_LE(page->objects.size(), page_size);
    ASSERT_LE(pages, count + 1) << "pagination does not end";
    for (auto& o : page->objects) all.push_back(std::move(o));
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(Names(all, prefix_), want);
  EXPECT_GE(pages, (count + page_size - 1) / page_size);

  for (const auto& name : want) CONTRACT_EXPECT_OK(s->Delete(Key(name)));
}

TEST_P(ObjectStoreContractTest, DeleteRemovesTheObject) {
  CONTRACT_ASSERT_OK(PutString(*store_, Key("a/b/gone"), "bye"));
  CONTRACT_ASSERT_OK(PutString(*store_, Key("a/stays"), "hi"));
  CONTRACT_ASSERT_OK(store_->Delete(Key("a/b/gone")));
  CONTRACT_EXPECT_CODE(store_->Head(Key("a/b/gone")), StatusCode::kNotFound);
  CONTRACT_EXPECT_CODE(store_->Get(Key("a/b/gone")), StatusCode::kNotFound);
  auto list = ListUnder(*store_, prefix_);
  CONTRACT_ASSERT_OK(list);
  EXPECT_EQ(Names(*list, prefix_), std::vector<std::string>{"a/stays"});
  // The key is usable again.
  CONTRACT_ASSERT_OK(PutString(*store_, Key("a/b/gone"), "back"));
  auto got = GetString(*store_, Key("a/b/gone"));
  CONTRACT_ASSERT_OK(got);
  EXPECT_EQ(*got, "back");
}

TEST_P(ObjectStoreContractTest, DeleteOfMissingKeyIsOk) {
  CONTRACT_EXPECT_OK(store_->Delete(Key("never-existed")));
  CONTRACT_EXPECT_OK(store_->Delete(Key("no/such/dir/key")));
  CONTRACT_ASSERT_OK(PutString(*store_, Key("twice"), "x"));
  CONTRACT_EXPECT_OK(store_->Delete(Key("twice")));
  CONTRACT_EXPECT_OK(store_->Delete(Key("twice")));
}

TEST_P(ObjectStoreContractTest, KeysWithSpecialCharacters) {
  std::vector<std::string> names = {
      "with space/file name.txt", "unicode/日本語/ключ-ü", "plus+equals=tilde~",
      "percent%20and%2F",         "punct/!$&'()*,;:@",     "query?hash#",
      "under_score.dot-dash",
  };
  for (const auto& name : names) {
    PutOptions opts;
    opts.metadata = {{"name-length", std::to_string(name.size())}};
    CONTRACT_ASSERT_OK(PutString(*store_, Key(name), "content of " + name, opts));
  }
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    auto got = GetString(*store_, Key(name));
    CONTRACT_ASSERT_OK(got);
    EXPECT_EQ(*got, "content of " + name);
    auto head = store_->Head(Key(name));
    CONTRACT_ASSERT_OK(head);
    EXPECT_EQ(head->key, Key(name));
    EXPECT_EQ(head->metadata.at("name-length"), std::to_string(name.size()));
  }
  auto list = ListUnder(*store_, prefix_);
  CONTRACT_ASSERT_OK(list);
  std::vector<std::string> want = names;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Names(*list, prefix_), want);
  for (const auto& name : names) {
    CONTRACT_EXPECT_OK(store_->Delete(Key(name)));
    CONTRACT_EXPECT_CODE(store_->Head(Key(name)), StatusCode::kNotFound);
  }
}

TEST_P(ObjectStoreContractTest, RejectsKeysNoBackendCanHold) {
  const std::vector<std::string> bad = {
      "",
      "/" + Key("abs"),
      Key("a//b"),
      Key("trailing/"),
      Key("../x"),
      Key("a/./b"),
      Key("x.meta.json"),
      Key(".dbbackup-tmp-x"),
      Key("nul") + std::string(1, '\0') + "x",
  };
  for (const auto& key : bad) {
    SCOPED_TRACE("key \"" + key + "\"");
    CONTRACT_EXPECT_CODE(PutString(*store_, key, "x"), StatusCode::kInvalidArgument);
  }
  PutOptions opts;
  opts.metadata = {{"Upper-Case", "v"}};
  CONTRACT_EXPECT_CODE(PutString(*store_, Key("m"), "x", opts), StatusCode::kInvalidArgument);
  opts.metadata = {{"ok", "tab\tnot printable"}};
  CONTRACT_EXPECT_CODE(PutString(*store_, Key("m"), "x", opts), StatusCode::kInvalidArgument);
  auto list = ListUnder(*store_, prefix_);
  CONTRACT_ASSERT_OK(list);
  EXPECT_TRUE(list->empty());
}

TEST_P(ObjectStoreContractTest, ConcurrentPuts) {
  constexpr int kThreads = 8;
  constexpr int kKeysPerThread = 4;
  constexpr size_t kSize = 64 * 1024 + 3;
  std::vector<std::string> shared_versions;
  for (int t = 0; t < kThreads; ++t) shared_versions.push_back(RandomBytes(kSize, 1000 + t));

  std::vector<Status> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kKeysPerThread; ++i) {
        std::string key = Key("own/t" + std::to_string(t) + "/k" + std::to_string(i));
        auto r = PutString(*store_, key, RandomBytes(kSize, t * 100 + i));
        if (!r.ok()) {
          errors[t] = r.status();
          return;
        }
        // Everyone also overwrites one shared key with their own version.
        PutOptions opts;
        opts.metadata = {{"writer", std::to_string(t)}};
        auto s = PutString(*store_, Key("shared"), shared_versions[t], opts);
        if (!s.ok()) {
          errors[t] = s.status();
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_TRUE(errors[t].ok()) << errors[t].ToString();

  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeysPerThread; ++i) {
      auto got = GetString(*store_, Key("own/t" + std::to_string(t) + "/k" + std::to_string(i)));
      CONTRACT_ASSERT_OK(got);
      EXPECT_TRUE(*got == RandomBytes(kSize, t * 100 + i)) << "thread " << t << " key " << i;
    }
  }
  // The shared key holds one writer's version whole, and Head agrees on which.
  auto got = GetString(*store_, Key("shared"));
  CONTRACT_ASSERT_OK(got);
  auto head = store_->Head(Key("shared"));
  CONTRACT_ASSERT_OK(head);
  int writer = std::atoi(head->metadata["writer"].c_str());
  ASSERT_GE(writer, 0);
  ASSERT_LT(writer, kThreads);
  EXPECT_TRUE(*got == shared_versions[writer]) << "content is not writer " << writer << "'s";
  EXPECT_EQ(head->etag, store::Md5Hex(*got));
  auto list = ListUnder(*store_, prefix_);
  CONTRACT_ASSERT_OK(list);
  EXPECT_EQ(list->size(), size_t{kThreads * kKeysPerThread + 1});
}

}  // namespace dbbackup::testing
