#pragma once
// `accel api s3 get|put|ls`: the S3 client from the command line (added under `accel api`).
#include <memory>

#include "cli/command.h"

namespace accel::cli {

void AddS3Commands(CLI::App& api, std::shared_ptr<Action> action);

}  // namespace accel::cli
