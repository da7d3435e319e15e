// S3Options for an in-process S3ObjectStore that talks to a test server as
// one of its users (TestS3Env's targets), for integration tests that write
// through the store directly.
#pragma once

#include <string>

#include "store/s3/s3_options.h"
#include "testing/s3_test_env.h"

namespace dbbackup::testing {

// Endpoint (plain http allowed), region, bucket and the target's keys; every
// other field at its default.
store::s3::S3Options S3OptionsFor(const S3Target& target, const std::string& bucket);

}  // namespace dbbackup::testing
