#include "store/s3/xml.h"

#include <ctime>
#include <pugixml.hpp>

namespace dbbackup::store::s3 {
namespace {

bool Load(pugi::xml_document& doc, std::string_view body) {
  if (body.empty()) return false;
  return static_cast<bool>(doc.load_buffer(body.data(), body.size()));
}

std::string Text(const pugi::xml_node& node, const char* child) {
  return node.child(child).text().as_string();
}

// Some servers (RGW, older moto) omit the xmlns or use a prefix-free default
// namespace; pugixml matches names literally, so looking elements up by local
// name is all that is needed.
pugi::xml_node Root(const pugi::xml_document& doc) { return doc.document_element(); }

S3ErrorBody ErrorFrom(const pugi::xml_node& root) {
  return S3ErrorBody{Text(root, "Code"), Text(root, "Message"), Text(root, "Region")};
}

}  // namespace

std::optional<S3ErrorBody> ParseErrorBody(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return std::nullopt;
  pugi::xml_node root = Root(doc);
  if (std::string_view(root.name()) != "Error") return std::nullopt;
  return ErrorFrom(root);
}

Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return Status::Corruption("ListObjectsV2 response is not XML");
  pugi::xml_node root = Root(doc);
  if (std::string_view(root.name()) != "ListBucketResult") {
    return Status::Corruption(std::string("ListObjectsV2 response has root <") + root.name() +
                              ">, expected <ListBucketResult>");
  }
  ListObjectsV2Result out;
  for (pugi::xml_node c : root.children("Contents")) {
    ListedObject o;
    o.key = Text(c, "Key");
    o.size = c.child("Size").text().as_ullong();
    o.etag = StripQuotes(Text(c, "ETag"));
    o.last_modified_unix = ParseIso8601(Text(c, "LastModified")).value_or(0);
    out.objects.push_back(std::move(o));
  }
  out.is_truncated = std::string_view(root.child("IsTruncated").text().as_string()) == "true";
  out.next_continuation_token = Text(root, "NextContinuationToken");
  if (out.is_truncated && out.next_continuation_token.empty()) {
    return Status::Corruption("ListObjectsV2 response is truncated but has no continuation token");
  }
  return out;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return Status::Corruption("CreateMultipartUpload response is not XML");
  std::string id = Text(Root(doc), "UploadId");
  if (id.empty()) return Status::Corruption("CreateMultipartUpload response has no UploadId");
  return id;
}

Result<CompleteOutcome> ParseCompleteMultipartUpload(std::string_view body) {
  pugi::xml_document doc;
  // AWS sends whitespace while it works and only then the document, so
  // leading blanks are expected; pugixml skips them.
  if (!Load(doc, body)) return Status::Corruption("CompleteMultipartUpload response is not XML");
  pugi::xml_node root = Root(doc);
  CompleteOutcome out;
  std::string_view name = root.name();
  if (name == "Error") {
    out.error = ErrorFrom(root);
  } else if (name.starts_with("CompleteMultipartUpload")) {
    // "...Result" on AWS and RGW; moto 5 says "...Response".
    out.result = CompleteMultipartUploadResult{StripQuotes(Text(root, "ETag"))};
  } else {
    return Status::Corruption("CompleteMultipartUpload response has root <" + std::string(name) +
                              ">");
  }
  return out;
}

std::string BuildCompleteMultipartUpload(const std::vector<CompletedPart>& parts) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const CompletedPart& p : parts) {
    out += "<Part><PartNumber>" + std::to_string(p.part_number) + "</PartNumber><ETag>" +
           XmlEscape(p.etag) + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string BuildCreateBucketConfiguration(std::string_view region) {
  return "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
         "<LocationConstraint>" +
         XmlEscape(region) + "</LocationConstraint></CreateBucketConfiguration>";
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::optional<int64_t> ParseIso8601(std::string_view s) {
  std::tm tm{};
  std::string str(s);
  const char* end = strptime(str.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

std::optional<int64_t> ParseHttpDate(std::string_view s) {
  std::tm tm{};
  std::string str(s);
  const char* end = strptime(str.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace dbbackup::store::s3
