#include "base/gzip.h"

#include <gtest/gtest.h>

#include <random>

namespace skiff {
namespace {

TEST(GzipTest, RoundTripsAndShrinksRepetitiveText) {
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "{\"kind\":\"ConfigMap\",\"name\":\"cm-" + std::to_string(i) + "\"},";
  std::string gz = GzipCompress(text);
  ASSERT_GE(gz.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_LT(gz.size(), text.size() / 5);
  auto back = GzipDecompress(gz);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, text);
}

TEST(GzipTest, RoundTripsEmptyAndRandomData) {
  auto empty = GzipDecompress(GzipCompress(""));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, "");
  std::mt19937 rng(7);
  std::string noise(300000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  auto back = GzipDecompress(GzipCompress(noise, 9));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, noise);
}

TEST(GzipTest, RefusesCorruptTruncatedAndOversizedStreams) {
  std::string gz = GzipCompress(std::string(100000, 'a'));
  EXPECT_EQ(GzipDecompress(gz.substr(0, gz.size() / 2)).error().code(), StatusCode::kBadRequest);
  EXPECT_EQ(GzipDecompress("not gzip at all").error().code(), StatusCode::kBadRequest);
  EXPECT_EQ(GzipDecompress(gz, 1000).error().code(), StatusCode::kBadRequest);
}

TEST(GzipTest, AcceptEncoding) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("br, *"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.0, br"));
  EXPECT_FALSE(AcceptsGzip("gzipx"));
}

}  // namespace
}  // namespace skiff
