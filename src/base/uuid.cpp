#include "base/uuid.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>

namespace skiff {

namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    std::mt19937_64 r(seq);
    return r;
  }());
  return rng;
}

}  // namespace

std::string NewUuid() {
  std::array<uint8_t, 16> b{};
  uint64_t hi = Rng()();
  uint64_t lo = Rng()();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(hi >> (i * 8));
    b[8 + i] = static_cast<uint8_t>(lo >> (i * 8));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xF];
  }
  return out;
}

std::string GenerateNameSuffix() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 2);
  std::string out;
  for (int i = 0; i < 5; ++i) out += kAlphabet[pick(Rng())];
  return out;
}

std::string GenerateName(std::string_view base) {
  constexpr std::size_t kMaxBase = 63 - 5;
  return std::string(base.substr(0, std::min(base.size(), kMaxBase))) + GenerateNameSuffix();
}

}  // namespace skiff
