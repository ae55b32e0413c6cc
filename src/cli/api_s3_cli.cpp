// accel api s3 get BUCKET KEY [-o FILE] | put BUCKET KEY FILE | ls BUCKET [PREFIX]. Keys from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; --base-url names the endpoint (repeat it, or
// separate with commas, for several); addressing is path-style so self-hosted servers work.
#include "cli/api_s3_cli.h"

#include "core/bounded_read.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "api/s3/s3_client.h"

namespace accel::cli {
namespace {

struct S3Options {
  std::vector<std::string> base_urls;
  std::string region, bucket, key, file, prefix, output;
  bool least_loaded = false, json = false;
  int timeout_s = 300, retries = 4;
  size_t part_mib = 8;
};

Result<std::unique_ptr<api::s3::S3Client>> MakeS3Client(const S3Options& o) {
  api::s3::S3Config cfg;
  for (const auto& list : o.base_urls) {
    std::stringstream ss(list);
    for (std::string url; std::getline(ss, url, ',');)
      if (!url.empty()) cfg.endpoints.push_back(url);
  }
  if (cfg.endpoints.empty()) return InvalidArgument("s3 needs --base-url (e.g. http://127.0.0.1:9000)");
  cfg.credentials = api::s3::CredentialsFromEnv();
  if (!o.region.empty()) cfg.credentials.region = o.region;
  cfg.strategy = o.least_loaded ? api::RouteStrategy::kLeastLoaded : api::RouteStrategy::kRoundRobin;
  cfg.http.timeout_ms = o.timeout_s * 1000;
  cfg.backoff.max_retries = o.retries;
  cfg.part_size = o.part_mib << 20;
  cfg.multipart_threshold = cfg.part_size;
  return api::s3::S3Client::Create(std::move(cfg));
}

int RunGet(const S3Options& o) {
  auto client = MakeS3Client(o);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->Get(o.bucket, o.key);
  if (!r.ok()) return ReportError(r.error().ToStatus());
  if (o.output.empty() || o.output == "-") {
    std::fwrite(r->body.data(), 1, r->body.size(), stdout);
    return kExitOk;
  }
  std::ofstream out(o.output, std::ios::binary);
  out.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
  if (!out) return ReportError(InvalidArgument("cannot write " + o.output));
  return kExitOk;
}

constexpr size_t kMaxS3PutBytes = 1024 * kMiB;  // held in memory for signing

int RunPut(const S3Options& o) {
  auto read = ReadRegularFile(o.file, kMaxS3PutBytes, "upload");
  if (!read.ok()) return ReportError(read.status());
  std::string body = std::move(read.value());
  auto client = MakeS3Client(o);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->PutAuto(o.bucket, o.key, body);
  if (!r.ok()) return ReportError(r.error().ToStatus());
  std::printf("%s\n", r.value().c_str());
  return kExitOk;
}

int RunList(const S3Options& o) {
  auto client = MakeS3Client(o);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->List(o.bucket, o.prefix);
  if (!r.ok()) return ReportError(r.error().ToStatus());
  if (o.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& obj : r.value()) j.push_back({{"key", obj.key}, {"size", obj.size}, {"etag", obj.etag}});
    std::printf("%s\n", j.dump().c_str());
  } else {
    for (const auto& obj : r.value()) std::printf("%12llu  %s\n", static_cast<unsigned long long>(obj.size), obj.key.c_str());
  }
  return kExitOk;
}

void CommonOptions(CLI::App* v, S3Options* o) {
  v->add_option("--base-url", o->base_urls, "S3 endpoint URL; repeat or comma-separate for several")
      ->required()
      ->allow_extra_args(false);
  v->add_option("--region", o->region, "signing region (default AWS_REGION or us-east-1)");
  v->add_flag("--least-loaded", o->least_loaded, "route to the endpoint with fewest requests in flight (default round-robin)");
  v->add_option("--timeout", o->timeout_s, "seconds per request")->check(CLI::Range(1, 86400));
  v->add_option("--retries", o->retries, "retries after the first attempt")->check(CLI::Range(0, 20));
}

}  // namespace

void AddS3Commands(CLI::App& api, std::shared_ptr<Action> action) {
  auto o = std::make_shared<S3Options>();
  CLI::App* s3 = api.add_subcommand("s3", "S3-compatible object storage (SigV4, path-style)");
  s3->require_subcommand(1);
  CLI::App* get = s3->add_subcommand("get", "download an object (to stdout or -o FILE)");
  CommonOptions(get, o.get());
  get->add_option("bucket", o->bucket, "BUCKET")->required();
  get->add_option("key", o->key, "KEY")->required();
  get->add_option("-o,--output", o->output, "file to write");
  get->callback([o, action] { *action = [o] { return RunGet(*o); }; });
  CLI::App* put = s3->add_subcommand("put", "upload a file (multipart past --part-mib)");
  CommonOptions(put, o.get());
  put->add_option("bucket", o->bucket, "BUCKET")->required();
  put->add_option("key", o->key, "KEY")->required();
  put->add_option("file", o->file, "FILE")->required();
  put->add_option("--part-mib", o->part_mib, "multipart part size in MiB")->check(CLI::Range(5, 5120));
  put->callback([o, action] { *action = [o] { return RunPut(*o); }; });
  CLI::App* ls = s3->add_subcommand("ls", "list objects (all pages)");
  CommonOptions(ls, o.get());
  ls->add_option("bucket", o->bucket, "BUCKET")->required();
  ls->add_option("prefix", o->prefix, "PREFIX");
  ls->add_flag("--json", o->json, "print JSON");
  ls->callback([o, action] { *action = [o] { return RunList(*o); }; });
}

}  // namespace accel::cli
