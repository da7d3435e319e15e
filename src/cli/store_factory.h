// Builds the ObjectStore the configuration asks for: the local directory
// store in local mode, S3 otherwise. A requested backend that cannot be built
// is an error, never a silent fallback to another.
#pragma once

#include <memory>

#include "cli/config.h"
#include "env/clock.h"
#include "store/object_store.h"

namespace dbbackup::cli {

// `clock` must outlive the store.
Result<std::unique_ptr<store::ObjectStore>> MakeStore(const Config& config, env::Clock& clock);

}  // namespace dbbackup::cli
