#!/usr/bin/env bash
# rgw-seed-policy.sh BUCKET [without-delete] - as the RGW owner, attach the seed
# system's IAM policy to BUCKET as a bucket policy for the unprivileged user
# "backup" (s3:PutObject, GetObject, ListBucket, DeleteObject on BUCKET and
# BUCKET/*; "without-delete" leaves out s3:DeleteObject). BUCKET must exist and
# belong to the owner. Reads DBB_TEST_RGW_ENDPOINT, DBB_TEST_RGW_ACCESS_KEY and
# DBB_TEST_RGW_SECRET_KEY (source the env file written by up.sh).
# tests/testing/aws_cli.h has the same helper for the C++ tests.
set -euo pipefail
TE_NAME=rgw-seed-policy
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -ge 1 ] || { echo "usage: rgw-seed-policy.sh BUCKET [without-delete]" >&2; exit 2; }
: "${DBB_TEST_RGW_ENDPOINT:?source the env file written by up.sh}"
policy=$(seed_policy "$1" "${2:-}" |
  sed 's#"Effect":"Allow",#"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/backup"]},#')
AWS_ACCESS_KEY_ID=$DBB_TEST_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$DBB_TEST_RGW_SECRET_KEY \
  aws_isolated --endpoint-url "$DBB_TEST_RGW_ENDPOINT" s3api put-bucket-policy \
  --bucket "$1" --policy "$policy"
