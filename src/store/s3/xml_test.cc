#include "store/s3/xml.h"

#include <gtest/gtest.h>

namespace dbbackup::store::s3 {
namespace {

TEST(Xml, ParsesErrorAndToleratesRgwEmptyMessage) {
  auto e = ParseErrorBody(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code>"
      "<Message></Message><BucketName>b</BucketName><RequestId>tx1</RequestId></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchBucket");
  EXPECT_EQ(e->message, "");
  EXPECT_FALSE(ParseErrorBody("").has_value());
  EXPECT_FALSE(ParseErrorBody("<html>bad gateway</html>").has_value());
  EXPECT_FALSE(ParseErrorBody("not xml").has_value());
}

TEST(Xml, ParsesListObjectsV2WithNamespaceAndEntities) {
  auto r = ParseListObjectsV2(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><KeyCount>2</KeyCount><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a &amp; b</Key><Size>10</Size><ETag>&quot;e1&quot;</ETag>"
      "<LastModified>2009-10-12T17:50:30.000Z</LastModified></Contents>"
      "<Contents><Key>big</Key><Size>6000000000</Size><ETag>\"e2-3\"</ETag>"
      "<LastModified>2009-10-12T17:50:31Z</LastModified></Contents></ListBucketResult>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].key, "a & b");
  EXPECT_EQ(r->objects[0].etag, "e1");
  EXPECT_EQ(r->objects[0].last_modified_unix, 1255369830);
  EXPECT_EQ(r->objects[1].size, 6000000000u);
  EXPECT_EQ(r->objects[1].etag, "e2-3");
  EXPECT_FALSE(r->is_truncated);
  EXPECT_TRUE(r->next_continuation_token.empty());
}

TEST(Xml, TruncatedListingWithoutTokenIsCorruption) {
  auto r =
      ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<Error><Code>x</Code></Error>").status().code(),
            StatusCode::kCorruption);
}

TEST(Xml, ParsesUploadId) {
  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>2~abc/def+</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "2~abc/def+");
  EXPECT_EQ(ParseInitiateMultipartUpload("<X/>").status().code(), StatusCode::kCorruption);
}

TEST(Xml, CompleteResultErrorInside200AndMotoRootName) {
  // AWS sends blanks while it assembles the object, then the document.
  auto ok = ParseCompleteMultipartUpload(
      "   \n<?xml version=\"1.0\"?><CompleteMultipartUploadResult><ETag>\"x-2\"</ETag>"
      "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE(ok->result.has_value());
  EXPECT_EQ(ok->result->etag, "x-2");

  auto err = ParseCompleteMultipartUpload(
      "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message>"
      "</Error>");
  ASSERT_TRUE(err.ok());
  ASSERT_TRUE(err->error.has_value());
  EXPECT_EQ(err->error->code, "InternalError");

  auto moto = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResponse><ETag>\"m-2\"</ETag></CompleteMultipartUploadResponse>");
  ASSERT_TRUE(moto.ok());
  EXPECT_EQ(moto->result->etag, "m-2");
  EXPECT_EQ(ParseCompleteMultipartUpload("").status().code(), StatusCode::kCorruption);
}

TEST(Xml, BuildsCompleteBodyEscaped) {
  std::string body = BuildCompleteMultipartUpload({{1, "\"a<b\""}, {2, "c&d"}});
  EXPECT_NE(body.find("<Part><PartNumber>1</PartNumber><ETag>&quot;a&lt;b&quot;</ETag></Part>"
                      "<Part><PartNumber>2</PartNumber><ETag>c&amp;d</ETag></Part>"),
            std::string::npos)
      << body;
}

TEST(Xml, EscapeAndQuotes) {
  EXPECT_EQ(XmlEscape("<a href='x'>&\"</a>"), "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(StripQuotes("\"abc\""), "abc");
  EXPECT_EQ(StripQuotes("abc"), "abc");
  EXPECT_EQ(StripQuotes("\""), "\"");
}

TEST(Xml, Dates) {
  EXPECT_EQ(ParseIso8601("2009-10-12T17:50:30.000Z"), 1255369830);
  EXPECT_EQ(ParseHttpDate("Wed, 12 Oct 2009 17:50:00 GMT"), 1255369800);
  EXPECT_FALSE(ParseIso8601("yesterday").has_value());
}

}  // namespace
}  // namespace dbbackup::store::s3
