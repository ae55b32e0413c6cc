#pragma once
// S3's XML bodies (pugixml): ListObjectsV2 pages, multipart initiate/complete, and error
// documents mapped to the shared error classes.
#include <cstdint>
#include <string>
#include <vector>

#include "api/wire/error.h"
#include "api/wire/http_types.h"

namespace accel::api::s3 {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  std::string last_modified;
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_token;
};

ApiResult<ListPage> ParseListObjectsV2(const std::string& xml);
ApiResult<std::string> ParseInitiateMultipartUpload(const std::string& xml);  // the UploadId
std::string BuildCompleteMultipartUpload(const std::vector<std::string>& part_etags);  // parts 1..N
// CompleteMultipartUpload may answer 200 with an <Error> body (the failure shows late).
bool BodyIsError(const std::string& xml);
// The ETag inside a CompleteMultipartUploadResult ("" when absent).
std::string CompletedETag(const std::string& xml);

// A non-2xx S3 answer -> ApiError. The XML <Code> decides the class where it is known
// (NoSuchKey -> not_found, AccessDenied/SignatureDoesNotMatch -> auth, SlowDown -> rate_limited,
// ...); otherwise the HTTP status does (HEAD answers have no body).
ApiError ClassifyS3Error(const HttpResponse& response);

}  // namespace accel::api::s3
