// PNG through libpng's simplified API and JPEG through libjpeg(-turbo); both read the header
// first so oversized images are refused before allocation.
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <png.h>

#include "core/redact.h"

#include "core/mapped_file.h"
#include "preprocess/image.h"

namespace accel::preprocess {

namespace {

Status CheckSize(int64_t w, int64_t h, const std::string& label, const DecodeOptions& o) {
  if (w <= 0 || h <= 0) return Corrupt(label + ": image has no pixels (" + std::to_string(w) + "x" + std::to_string(h) + ")");
  if (w * h > o.max_pixels) {
    return InvalidArgument(label + ": image of " + std::to_string(w) + "x" + std::to_string(h) + " pixels exceeds the limit of " +
                           std::to_string(o.max_pixels) + " pixels");
  }
  return Status::Ok();
}

// Walks the chunk list before libpng sees it: a chunk claiming more bytes than the file holds
// (a 60-byte file saying 0x7ffffff0) made libpng allocate that much.
Status CheckPngChunks(std::string_view bytes, const std::string& label) {
  size_t pos = 8;  // signature
  while (pos + 12 <= bytes.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + pos);
    const uint64_t len = (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | p[3];
    const std::string type(bytes.substr(pos + 4, 4));
    if (len > bytes.size() - pos - 12) {
      return Corrupt(label + ": PNG chunk '" + EscapeControlBytes(type) + "' claims " + std::to_string(len) + " bytes but only " +
                     std::to_string(bytes.size() - pos - 12) + " remain");
    }
    if (type == "IEND") return Status::Ok();
    pos += 12 + static_cast<size_t>(len);
  }
  return Status::Ok();  // truncated files are libpng's to report
}

Result<Image> DecodePng(std::string_view bytes, const std::string& label, const DecodeOptions& o) {
  ACCEL_RETURN_IF_ERROR(CheckPngChunks(bytes, label));
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size())) {
    return Corrupt(label + ": not a readable PNG (" + std::string(png.message) + ")");
  }
  Status size = CheckSize(png.width, png.height, label, o);
  if (!size.ok()) {
    png_image_free(&png);
    return size;
  }
  // Read as RGBA and drop alpha: PIL's convert("RGB") discards alpha rather than compositing.
  png.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr)) {
    std::string msg = png.message;
    png_image_free(&png);
    return Corrupt(label + ": corrupt PNG data (" + msg + ")");
  }
  Image img;
  img.width = static_cast<int>(png.width);
  img.height = static_cast<int>(png.height);
  img.rgb.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (size_t i = 0, n = static_cast<size_t>(img.width) * img.height; i < n; ++i) std::memcpy(&img.rgb[i * 3], &rgba[i * 4], 3);
  return img;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void JpegSilence(j_common_ptr, int) {}

// Kept free of C++ objects with destructors between setjmp and longjmp.
bool DecodeJpegRaw(std::string_view bytes, const DecodeOptions& o, Image* img, std::string* error) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = JpegErrorExit;
  err.mgr.emit_message = JpegSilence;
  if (setjmp(err.jump)) {
    *error = err.message;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (static_cast<int64_t>(cinfo.image_width) * cinfo.image_height > o.max_pixels || cinfo.image_width == 0 || cinfo.image_height == 0) {
    *error = "size:" + std::to_string(cinfo.image_width) + "x" + std::to_string(cinfo.image_height);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  img->width = static_cast<int>(cinfo.output_width);
  img->height = static_cast<int>(cinfo.output_height);
  img->rgb.resize(static_cast<size_t>(img->width) * img->height * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = &img->rgb[static_cast<size_t>(cinfo.output_scanline) * img->width * 3];
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

Result<Image> DecodeJpeg(std::string_view bytes, const std::string& label, const DecodeOptions& o) {
  Image img;
  std::string error;
  if (!DecodeJpegRaw(bytes, o, &img, &error)) {
    if (error.rfind("size:", 0) == 0) {
      const std::string dims = error.substr(5);
      const auto x = dims.find('x');
      return CheckSize(std::stoll(dims.substr(0, x)), std::stoll(dims.substr(x + 1)), label, o);
    }
    return Corrupt(label + ": corrupt JPEG (" + error + ")");
  }
  return img;
}

}  // namespace

Result<Image> DecodeImage(std::string_view bytes, const std::string& label, const DecodeOptions& options) {
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) return DecodePng(bytes, label, options);
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF && static_cast<unsigned char>(bytes[1]) == 0xD8 &&
      static_cast<unsigned char>(bytes[2]) == 0xFF) {
    return DecodeJpeg(bytes, label, options);
  }
  if (bytes.empty()) return Corrupt(label + ": empty file");
  return Unsupported(label + ": unsupported image format (PNG and JPEG are supported)");
}

Result<Image> LoadImage(const std::string& path, const DecodeOptions& options) {
  ACCEL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return DecodeImage(bytes, path, options);
}

}  // namespace accel::preprocess
