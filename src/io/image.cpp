#include "snn/io/image.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <zlib.h>

#include <cstdio>
#include <unordered_map>

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

void put_u32be(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_u16le(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
}

void png_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32be(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put_u32be(out, static_cast<uint32_t>(
                     crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
}

// GIF LZW: variable-width codes, LSB first, a clear code whenever the table is full.
std::string lzw_encode(const std::vector<uint8_t>& indices, int min_code_size) {
  const int clear = 1 << min_code_size, end = clear + 1;
  std::string out;
  uint32_t bit_buffer = 0;
  int bit_count = 0, code_size = min_code_size + 1, next_code = end + 1;
  auto emit = [&](int code) {
    bit_buffer |= static_cast<uint32_t>(code) << bit_count;
    bit_count += code_size;
    while (bit_count >= 8) {
      out.push_back(static_cast<char>(bit_buffer & 0xFF));
      bit_buffer >>= 8;
      bit_count -= 8;
    }
  };
  std::unordered_map<uint32_t, int> table;  // (prefix code << 8 | byte) -> code
  emit(clear);
  int prefix = -1;
  for (uint8_t c : indices) {
    if (prefix < 0) {
      prefix = c;
      continue;
    }
    const uint32_t key = (static_cast<uint32_t>(prefix) << 8) | c;
    if (auto it = table.find(key); it != table.end()) {
      prefix = it->second;
      continue;
    }
    emit(prefix);
    table.emplace(key, next_code++);
    if (next_code > (1 << code_size) && code_size < 12) ++code_size;
    if (next_code == 4096) {  // table full: start over
      emit(clear);
      table.clear();
      code_size = min_code_size + 1;
      next_code = end + 1;
    }
    prefix = c;
  }
  if (prefix >= 0) emit(prefix);
  emit(end);
  if (bit_count > 0) out.push_back(static_cast<char>(bit_buffer & 0xFF));
  return out;
}

}  // namespace

void write_png(const std::string& path, const at::Tensor& rgb) {
  check_rgb(rgb, 3, "write_png", "[H, W, 3]");
  const auto img = rgb.contiguous().cpu();
  const int64_t H = img.size(0), W = img.size(1);
  std::string raw;
  raw.reserve(static_cast<size_t>(H * (W * 3 + 1)));
  const auto* px = img.const_data_ptr<uint8_t>();
  for (int64_t y = 0; y < H; ++y) {
    raw.push_back('\0');  // filter: none
    raw.append(reinterpret_cast<const char*>(px + y * W * 3), static_cast<size_t>(W * 3));
  }
  uLongf packed_size = compressBound(raw.size());
  std::string packed(packed_size, '\0');
  TORCH_CHECK(compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                        reinterpret_cast<const Bytef*>(raw.data()), raw.size(), 6) == Z_OK,
              "snn::io::write_png: zlib failed for ", path);
  packed.resize(packed_size);
  std::string out = "\x89PNG\r\n\x1a\n";
  std::string header;
  put_u32be(header, static_cast<uint32_t>(W));
  put_u32be(header, static_cast<uint32_t>(H));
  header += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, no interlace
  png_chunk(out, "IHDR", header);
  png_chunk(out, "IDAT", packed);
  png_chunk(out, "IEND", "");
  snn::detail::write_file_atomically(path, out);
}

void write_gif(const std::string& path, const at::Tensor& frames, int delay_cs) {
  check_rgb(frames, 4, "write_gif", "[T, H, W, 3]");
  TORCH_CHECK(delay_cs >= 0 && delay_cs <= 65535,
              "snn::io::write_gif: delay_cs must be in [0, "
              "65535], got ",
              delay_cs);
  const auto f = frames.contiguous().cpu();
  const int64_t T = f.size(0), H = f.size(1), W = f.size(2);
  std::string out = "GIF89a";
  put_u16le(out, static_cast<uint32_t>(W));
  put_u16le(out, static_cast<uint32_t>(H));
  out += std::string("\xF5\x00\x00", 3);  // global colour table of 64 entries
  for (int i = 0; i < 64; ++i) {          // 4 levels per channel: r, g, b in 2 bits each
    for (int shift : {4, 2, 0}) out.push_back(static_cast<char>(((i >> shift) & 3) * 85));
  }
  // Loop forever (NETSCAPE2.0 application extension).
  out += std::string("\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00", 19);
  const auto* px = f.const_data_ptr<uint8_t>();
  std::vector<uint8_t> indices(static_cast<size_t>(H * W));
  for (int64_t t = 0; t < T; ++t) {
    out += std::string("\x21\xF9\x04\x04", 4);  // graphic control: no disposal
    put_u16le(out, static_cast<uint32_t>(delay_cs));
    out += std::string("\x00\x00", 2);
    out.push_back('\x2C');  // image descriptor
    put_u16le(out, 0);
    put_u16le(out, 0);
    put_u16le(out, static_cast<uint32_t>(W));
    put_u16le(out, static_cast<uint32_t>(H));
    out.push_back('\0');
    for (int64_t i = 0; i < H * W; ++i) {
      const uint8_t* p = px + (t * H * W + i) * 3;
      auto level = [](uint8_t v) { return static_cast<uint8_t>((v + 42) / 85); };
      indices[i] = static_cast<uint8_t>(level(p[0]) << 4 | level(p[1]) << 2 | level(p[2]));
    }
    const int min_code_size = 6;
    out.push_back(static_cast<char>(min_code_size));
    const std::string data = lzw_encode(indices, min_code_size);
    for (size_t pos = 0; pos < data.size(); pos += 255) {
      const size_t n = std::min<size_t>(255, data.size() - pos);
      out.push_back(static_cast<char>(n));
      out.append(data, pos, n);
    }
    out.push_back('\0');
  }
  out.push_back('\x3B');
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
