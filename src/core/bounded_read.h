#pragma once
// One reader for every input file a user can name: regular files only (a FIFO, directory or
// device is refused before anything blocks or streams forever), opened without blocking, read
// with a size cap so /dev/zero-like inputs cannot exhaust memory.
#include <cstddef>
#include <string>

#include "core/status.h"

namespace accel {

inline constexpr size_t kMiB = size_t{1} << 20;
// Default cap for ReadFileToString: far above any config, vocabulary or media file we read.
inline constexpr size_t kDefaultMaxInputBytes = 1024 * kMiB;

// Opens `path` read-only without blocking and checks that it is a regular file. Returns the fd
// (O_CLOEXEC, blocking mode restored) or a one-line error: NotFound when absent, InvalidArgument
// for a directory, FIFO, socket or device.
Result<int> OpenRegularFile(const std::string& path);

// Reads the whole regular file at `path`, failing with InvalidArgument when it holds more than
// `max_bytes` (the file's reported size is not trusted: /proc files report 0).
// `what` names the kind of input in messages ("tokenizer", "image").
Result<std::string> ReadRegularFile(const std::string& path, size_t max_bytes, const char* what = "file");

}  // namespace accel
