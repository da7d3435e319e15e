// Runs the ObjectStore contract suite over the hermetic backends.
#include "testing/store_contract.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "store/faulty_store.h"
#include "store/local_store.h"
#include "store/mem_store.h"
#include "testing/temp_dir.h"

namespace dbbackup::store {
namespace {

using ::dbbackup::testing::ScopedTempDir;
using ::dbbackup::testing::StoreFactory;

struct TempDirHolder {
  ScopedTempDir dir;
};

// A LocalObjectStore in a temporary directory it owns. A FaultyObjectStore
// with no fault set is a pass-through; the directory base is declared first so
// it is removed only after the store is gone.
class TempLocalStore : private TempDirHolder, public FaultyObjectStore {
 public:
  static std::unique_ptr<ObjectStore> Make(size_t page_size) {
    return std::unique_ptr<ObjectStore>(new TempLocalStore(page_size));
  }

 private:
  explicit TempLocalStore(size_t page_size)
      : FaultyObjectStore(OpenOrNull(dir.File("root"), page_size)) {}

  static std::unique_ptr<ObjectStore> OpenOrNull(const std::string& root, size_t page_size) {
    auto store = LocalObjectStore::Open(LocalStoreOptions{.root = root, .page_size = page_size});
    if (!store.ok()) std::abort();  // only a bug in Open's validation gets here
    return std::move(store).value();
  }
};

StoreFactory MemFactory() {
  return StoreFactory{
      .name = "Mem",
      .make = [] { return std::unique_ptr<ObjectStore>(std::make_unique<MemObjectStore>()); },
      .make_with_page_size =
          [](size_t n) {
            return std::unique_ptr<ObjectStore>(
                std::make_unique<MemObjectStore>(MemStoreOptions{.page_size = n}));
          },
  };
}

StoreFactory LocalFactory() {
  return StoreFactory{
      .name = "Local",
      .make = [] { return TempLocalStore::Make(1000); },
      .make_with_page_size = [](size_t n) { return TempLocalStore::Make(n); },
  };
}

// The decorator with no fault set must keep the whole contract.
StoreFactory FaultyOverMemFactory() {
  return StoreFactory{
      .name = "FaultyOverMem",
      .make =
          [] {
            return std::unique_ptr<ObjectStore>(
                std::make_unique<FaultyObjectStore>(std::make_unique<MemObjectStore>()));
          },
      .make_with_page_size =
          [](size_t n) {
            return std::unique_ptr<ObjectStore>(std::make_unique<FaultyObjectStore>(
                std::make_unique<MemObjectStore>(MemStoreOptions{.page_size = n})));
          },
  };
}

DBB_INSTANTIATE_STORE_CONTRACT(Hermetic, MemFactory(), LocalFactory(), FaultyOverMemFactory());

}  // namespace
}  // namespace dbbackup::store
