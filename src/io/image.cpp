#include "snn/io/image.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <gif_lib.h>
#include <png.h>

#include <array>
#include <csetjmp>
#include <string>

#include "util/atomic_file.h"

namespace snn::io {
namespace {

void check_rgb(const at::Tensor& t, int64_t dims, const char* what, const char* shape) {
  TORCH_CHECK(t.dim() == dims && t.size(-1) == 3 && t.scalar_type() == at::kByte, "snn::io::", what,
              ": expected a uint8 tensor ", shape, ", got ", t.scalar_type(), " ", t.sizes());
  TORCH_CHECK(t.numel() > 0, "snn::io::", what, ": the image is empty: ", t.sizes());
  TORCH_CHECK(t.size(-2) <= 65535 && t.size(-3) <= 65535, "snn::io::", what,
              ": image too large: ", t.sizes());
}

// libpng and giflib write into a string, which is then written atomically.
void png_append(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), n);
}
void png_no_flush(png_structp) {}
int gif_append(GifFileType* gif, const GifByteType* data, int n) {
  static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(data), n);
  return n;
}

// Encodes the PNG into `out`; false when libpng reports an error (it longjmps here, so no
// object with a destructor lives in this frame).
bool encode_png(std::string* out, const uint8_t* px, int64_t H, int64_t W) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, png_append, png_no_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(W), static_cast<png_uint_32>(H), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int64_t y = 0; y < H; ++y) png_write_row(png, px + y * W * 3);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

void check_gif(int status, const GifFileType* gif, const std::string& path) {
  TORCH_CHECK(status == GIF_OK, "snn::io::write_gif: giflib failed for ", path, ": ",
              GifErrorString(gif != nullptr ? gif->Error : 0));
}

}  // namespace

void write_png(const std::string& path, const at::Tensor& rgb) {
  check_rgb(rgb, 3, "write_png", "[H, W, 3]");
  const auto img = rgb.contiguous().cpu();
  std::string out;
  TORCH_CHECK(encode_png(&out, img.const_data_ptr<uint8_t>(), img.size(0), img.size(1)),
              "snn::io::write_png: libpng failed for ", path);
  snn::detail::write_file_atomically(path, out);
}

void write_gif(const std::string& path, const at::Tensor& frames, int delay_cs) {
  check_rgb(frames, 4, "write_gif", "[T, H, W, 3]");
  TORCH_CHECK(delay_cs >= 0 && delay_cs <= 65535,
              "snn::io::write_gif: delay_cs must be in [0, 65535], got ", delay_cs);
  const auto f = frames.contiguous().cpu();
  const int64_t T = f.size(0), H = f.size(1), W = f.size(2);
  // 64 colours: 4 levels per channel, r, g, b in 2 bits each.
  std::array<GifColorType, 64> colours{};
  for (int i = 0; i < 64; ++i) {
    colours[i] = {static_cast<GifByteType>(((i >> 4) & 3) * 85),
                  static_cast<GifByteType>(((i >> 2) & 3) * 85),
                  static_cast<GifByteType>((i & 3) * 85)};
  }
  std::string out;
  int error = 0;
  GifFileType* gif = EGifOpen(&out, gif_append, &error);
  TORCH_CHECK(gif != nullptr, "snn::io::write_gif: giflib failed for ", path, ": ",
              GifErrorString(error));
  ColorMapObject* map = GifMakeMapObject(64, colours.data());
  try {
    TORCH_CHECK(map != nullptr, "snn::io::write_gif: out of memory for ", path);
    EGifSetGifVersion(gif, true);
    check_gif(EGifPutScreenDesc(gif, static_cast<int>(W), static_cast<int>(H), 8, 0, map), gif,
              path);
    // Loop forever (NETSCAPE2.0 application extension).
    static const GifByteType netscape[] = "NETSCAPE2.0";
    static const GifByteType loop[] = {1, 0, 0};
    check_gif(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), gif, path);
    check_gif(EGifPutExtensionBlock(gif, 11, netscape), gif, path);
    check_gif(EGifPutExtensionBlock(gif, 3, loop), gif, path);
    check_gif(EGifPutExtensionTrailer(gif), gif, path);
    const auto* px = f.const_data_ptr<uint8_t>();
    std::vector<GifPixelType> row(static_cast<size_t>(W));
    for (int64_t t = 0; t < T; ++t) {
      GraphicsControlBlock control{DISPOSE_DO_NOT, false, delay_cs, NO_TRANSPARENT_COLOR};
      GifByteType extension[4];
      const size_t n = EGifGCBToExtension(&control, extension);
      check_gif(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(n), extension),
                gif, path);
      check_gif(EGifPutImageDesc(gif, 0, 0, static_cast<int>(W), static_cast<int>(H), false,
                                 nullptr),
                gif, path);
      for (int64_t y = 0; y < H; ++y) {
        for (int64_t x = 0; x < W; ++x) {
          const uint8_t* p = px + ((t * H + y) * W + x) * 3;
          auto level = [](uint8_t v) { return static_cast<GifPixelType>((v + 42) / 85); };
          row[x] = static_cast<GifPixelType>(level(p[0]) << 4 | level(p[1]) << 2 | level(p[2]));
        }
        check_gif(EGifPutLine(gif, row.data(), static_cast<int>(W)), gif, path);
      }
    }
  } catch (...) {
    GifFreeMapObject(map);
    EGifCloseFile(gif, &error);
    throw;
  }
  GifFreeMapObject(map);
  TORCH_CHECK(EGifCloseFile(gif, &error) == GIF_OK, "snn::io::write_gif: giflib failed for ", path,
              ": ", GifErrorString(error));
  snn::detail::write_file_atomically(path, out);
}

at::Tensor frames_to_rgb(const at::Tensor& frames) {
  TORCH_CHECK(frames.dim() == 4 && (frames.size(1) == 1 || frames.size(1) == 2),
              "snn::io::frames_to_rgb: expected frames [T, P, H, W] with P 1 or 2, got ",
              frames.sizes());
  const auto on = (frames > 0).to(at::kByte) * 255;  // [T, P, H, W]
  at::Tensor rgb;
  if (frames.size(1) == 2) {
    rgb = at::stack({at::zeros_like(on.select(1, 0)), on.select(1, 0), on.select(1, 1)}, -1);
  } else {
    rgb = on.select(1, 0).unsqueeze(-1).expand({-1, -1, -1, 3});
  }
  return rgb.contiguous();
}

}  // namespace snn::io
