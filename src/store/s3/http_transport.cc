#include "store/s3/http_transport.h"

namespace dbbackup::store::s3 {
namespace {

std::optional<std::string> FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> HttpResponseStream::Header(std::string_view name) const {
  return FindHeader(headers(), name);
}

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

Result<HttpResponse> SendAndReadAll(HttpTransport& transport, const HttpRequest& request,
                                    size_t max_body) {
  DBB_ASSIGN_OR_RETURN(std::unique_ptr<HttpResponseStream> stream, transport.Send(request));
  HttpResponse response;
  response.status = stream->status();
  response.headers = stream->headers();
  char buf[16 * 1024];
  for (;;) {
    DBB_ASSIGN_OR_RETURN(size_t n, stream->Read(buf, sizeof(buf)));
    if (n == 0) break;
    if (response.body.size() + n > max_body) {
      return Status::IOError("response from " + UrlOrigin(request.url) + " is larger than " +
                             std::to_string(max_body) + " bytes");
    }
    response.body.append(buf, n);
  }
  return response;
}

std::string UrlOrigin(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t end = url.find_first_of("/?", start);
  return std::string(url.substr(0, end));
}

}  // namespace dbbackup::store::s3
