#include "api/s3/s3_xml.h"

#include <pugixml.hpp>

#include <charconv>
#include <map>
#include <sstream>

#include "api/wire/http_error.h"

namespace accel::api::s3 {
namespace {

ApiError Malformed(const std::string& what) { return MakeError(ErrorClass::kProtocol, "S3 answered malformed XML: " + what); }

bool Load(pugi::xml_document& doc, const std::string& xml) {
  return static_cast<bool>(doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8));
}

}  // namespace

ApiResult<ListPage> ParseListObjectsV2(const std::string& xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) return Malformed("ListBucketResult does not parse");
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return Malformed("no ListBucketResult element");
  ListPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    ObjectInfo o;
    o.key = c.child_value("Key");
    std::string size = c.child_value("Size");
    auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
    if (o.key.empty() || ec != std::errc() || ptr != size.data() + size.size())
      return Malformed("a Contents entry without Key or a numeric Size");
    o.etag = c.child_value("ETag");
    o.last_modified = c.child_value("LastModified");
    page.objects.push_back(std::move(o));
  }
  page.truncated = std::string(root.child_value("IsTruncated")) == "true";
  page.next_token = root.child_value("NextContinuationToken");
  if (page.truncated && page.next_token.empty()) return Malformed("IsTruncated without NextContinuationToken");
  return page;
}

ApiResult<std::string> ParseInitiateMultipartUpload(const std::string& xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) return Malformed("InitiateMultipartUploadResult does not parse");
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) return Malformed("no UploadId");
  return id;
}

std::string BuildCompleteMultipartUpload(const std::vector<std::string>& part_etags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  for (size_t i = 0; i < part_etags.size(); ++i) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(static_cast<unsigned>(i + 1));
    part.append_child("ETag").text().set(part_etags[i].c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

bool BodyIsError(const std::string& xml) {
  pugi::xml_document doc;
  return Load(doc, xml) && doc.child("Error");
}

std::string CompletedETag(const std::string& xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) return "";
  return doc.child("CompleteMultipartUploadResult").child_value("ETag");
}

ApiError ClassifyS3Error(const HttpResponse& response) {
  ApiError e = ClassifyHttpError(response);  // status-based class, Retry-After
  if (response.status == 503) e.cls = ErrorClass::kRateLimited;  // S3's 503 means "slow down"
  pugi::xml_document doc;
  if (response.body.empty() || !Load(doc, response.body) || !doc.child("Error")) {
    if (response.body.empty()) e.message = "S3 answered HTTP " + std::to_string(response.status) + " without a body";
    return e;
  }
  pugi::xml_node err = doc.child("Error");
  std::string code = err.child_value("Code");
  static const std::map<std::string, ErrorClass> kByCode = {
      {"NoSuchKey", ErrorClass::kNotFound},           {"NoSuchBucket", ErrorClass::kNotFound},
      {"NoSuchUpload", ErrorClass::kNotFound},        {"AccessDenied", ErrorClass::kAuth},
      {"SignatureDoesNotMatch", ErrorClass::kAuth},   {"InvalidAccessKeyId", ErrorClass::kAuth},
      {"ExpiredToken", ErrorClass::kAuth},            {"RequestTimeTooSkewed", ErrorClass::kAuth},
      {"SlowDown", ErrorClass::kRateLimited},         {"ThrottlingException", ErrorClass::kRateLimited},
      {"RequestLimitExceeded", ErrorClass::kRateLimited}, {"InternalError", ErrorClass::kServer},
      {"ServiceUnavailable", ErrorClass::kServer},    {"RequestTimeout", ErrorClass::kTimeout},
      {"InvalidArgument", ErrorClass::kBadRequest},   {"InvalidPart", ErrorClass::kBadRequest},
      {"InvalidPartOrder", ErrorClass::kBadRequest},  {"EntityTooSmall", ErrorClass::kBadRequest},
      {"MalformedXML", ErrorClass::kBadRequest},      {"InvalidBucketName", ErrorClass::kBadRequest},
  };
  auto it = kByCode.find(code);
  if (it != kByCode.end()) e.cls = it->second;
  std::string message = err.child_value("Message");
  e.message = code + (message.empty() ? "" : ": " + message);
  if (e.message.size() > 300) e.message.resize(300);
  return e;
}

}  // namespace accel::api::s3
