// moto's IAM and STS for the credentials tests: roles carrying the seed
// policy, trust policies moto accepts, temporary credentials, and the
// signature moto needs on AssumeRoleWithWebIdentity.
//
// moto 5.2.1 with IAM enforced answers HTTP 500 (KeyError HTTP_AUTHORIZATION)
// to an unsigned AssumeRoleWithWebIdentity, which AWS accepts unsigned (the
// token is the proof). dbbackup stays correct (it sends the call unsigned);
// the tests put SignUnsignedStsRequest between it and moto: in process
// (a transport) or as a loopback HTTP proxy for the CLI.
// s3_credentials_test.cc holds a canary that fails once moto accepts the
// unsigned call, so the workaround can go.
//
// Thread-safety: all functions may be called from several threads at once.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "store/s3/http_transport.h"
#include "store/s3/sigv4.h"
#include "testing/s3_test_env.h"

namespace dbbackup::testing {

// Creates an IAM role on moto with `trust` as its trust policy and the seed
// policy on `bucket`; returns its ARN ("" after a test failure).
std::string CreateSeedRole(const S3Target& admin, const std::string& name, const std::string& trust,
                           const std::string& bucket);

// A trust policy naming the admin user (moto checks trust policies
// literally: the user, not the account root).
std::string TrustAdminUser(const S3Target& admin);
// A trust policy for AssumeRoleWithWebIdentity from an example OIDC provider.
std::string TrustWebIdentity();

// `aws sts assume-role` as `admin`: temporary credentials of `role_arn`.
::testing::AssertionResult AssumeRoleWithAwsCli(const S3Target& admin, const std::string& role_arn,
                                                store::s3::Credentials* out);

// Adds x-amz-date and a SigV4 signature with `admin`'s keys (service sts,
// us-east-1) to `headers` when they carry no Authorization; `body` is the
// request's body. Signed requests pass unchanged.
void SignUnsignedStsRequest(const S3Target& admin, const std::string& method,
                            const std::string& url, const std::string& body,
                            store::s3::HeaderList& headers);

}  // namespace dbbackup::testing
