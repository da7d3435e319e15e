#include "cli/store_factory.h"

#include "store/local_store.h"

namespace dbbackup::cli {

Result<std::unique_ptr<store::ObjectStore>> MakeStore(const Config& config, env::Clock& clock) {
  if (config.LocalMode()) {
    store::LocalStoreOptions opts;
    opts.root = config.local_dir;
    opts.clock = &clock;
    DBB_ASSIGN_OR_RETURN(auto local, store::LocalObjectStore::Open(opts));
    return std::unique_ptr<store::ObjectStore>(std::move(local));
  }
  return Status::Unavailable("the S3 backend is not built yet");
}

}  // namespace dbbackup::cli
