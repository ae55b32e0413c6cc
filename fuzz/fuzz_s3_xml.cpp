// Fuzzes what an S3 peer controls: ListObjectsV2 / multipart XML bodies, error documents
// (with any status) and SigV4 Authorization headers. Any input gives a value or a classified
// error: no crash, no hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/s3/s3_xml.h"
#include "api/s3/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace accel::api;
  std::string in(reinterpret_cast<const char*>(data), size);
  (void)s3::ParseListObjectsV2(in);
  (void)s3::ParseInitiateMultipartUpload(in);
  (void)s3::BodyIsError(in);
  (void)s3::CompletedETag(in);
  HttpResponse r;
  r.status = size ? 400 + data[0] % 200 : 500;
  r.body = in;
  (void)s3::ClassifyS3Error(r);
  (void)s3::ParseAuthorization(in);
  (void)s3::UriDecode(in);
  return 0;
}
