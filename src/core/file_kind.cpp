#include "core/file_kind.h"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace accel {
namespace {

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

std::string DescribeFileKind(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return "a folder";
  // Never open a FIFO, socket or device to sniff it: a FIFO would block until a writer comes.
  if (!std::filesystem::is_regular_file(path, ec)) {
    return std::filesystem::exists(path, ec) ? "not a regular file (a pipe, socket or device)" : "";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  char b[16] = {};
  in.read(b, sizeof(b));
  const size_t n = static_cast<size_t>(in.gcount());
  auto starts = [&](const char* magic, size_t len) { return n >= len && std::memcmp(b, magic, len) == 0; };
  if (starts("GGUF", 4)) return "a GGUF model file";
  if (starts("\x89PNG", 4)) return "a PNG image";
  if (starts("\xFF\xD8\xFF", 3)) return "a JPEG image";
  if (starts("RIFF", 4) && n >= 12 && std::memcmp(b + 8, "WAVE", 4) == 0) return "a WAV audio file";
  if (starts("fLaC", 4)) return "a FLAC audio file";
  if (starts("OggS", 4)) return "an Ogg audio file";
  if (starts("SQLite format 3", 15)) return "an SQLite database";
  if (starts("PK\x03\x04", 4)) return EndsWith(path, ".bin") || EndsWith(path, ".pt") || EndsWith(path, ".pth")
                                        ? "a PyTorch checkpoint (zip)" : "a zip archive";
  if (starts("\x80", 1) && (EndsWith(path, ".bin") || EndsWith(path, ".pt") || EndsWith(path, ".pth")))
    return "a PyTorch checkpoint (pickle)";
  // safetensors: an 8-byte little-endian header length, then a JSON header.
  if (n >= 9 && b[8] == '{') return "a safetensors weights file";
  if (EndsWith(path, ".onnx")) return "an ONNX model";
  if (EndsWith(path, ".model")) return "a SentencePiece model";
  size_t i = 0;
  if (starts("\xEF\xBB\xBF", 3)) i = 3;
  while (i < n && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) ++i;
  if (i < n && (b[i] == '{' || b[i] == '[')) return EndsWith(path, ".jsonl") ? "a JSON-lines file" : "a JSON file";
  if (n == 0) return "an empty file";
  return "";
}

}  // namespace accel
