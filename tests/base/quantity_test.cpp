#include "base/quantity.h"

#include <gtest/gtest.h>

namespace skiff {
namespace {

std::string Canon(std::string_view s) {
  auto q = Quantity::Parse(s);
  EXPECT_TRUE(q.has_value()) << s;
  return q ? q->ToString() : "";
}

TEST(QuantityTest, CanonicalForms) {
  EXPECT_EQ(Canon("1000m"), "1");
  EXPECT_EQ(Canon("0.1"), "100m");
  EXPECT_EQ(Canon("100m"), "100m");
  EXPECT_EQ(Canon("1500"), "1500");
  EXPECT_EQ(Canon("2000"), "2k");
  EXPECT_EQ(Canon("1Gi"), "1Gi");
  EXPECT_EQ(Canon("1.5Gi"), "1536Mi");
  EXPECT_EQ(Canon("0.5Gi"), "512Mi");
  EXPECT_EQ(Canon("512"), "512");
  EXPECT_EQ(Canon("1024Ki"), "1Mi");
  EXPECT_EQ(Canon("1e3"), "1e3");
  EXPECT_EQ(Canon("128974848"), "128974848");
  EXPECT_EQ(Canon("129e6"), "129e6");
  EXPECT_EQ(Canon("123Mi"), "123Mi");
  EXPECT_EQ(Canon("0"), "0");
  EXPECT_EQ(Canon("-1"), "-1");
  EXPECT_EQ(Canon("1.1n"), "2n");  // rounded up to nano precision
}

TEST(QuantityTest, Values) {
  EXPECT_EQ(Quantity::Parse("250m")->MilliValue(), 250);
  EXPECT_EQ(Quantity::Parse("2")->MilliValue(), 2000);
  EXPECT_EQ(Quantity::Parse("1Ki")->Value(), 1024);
  EXPECT_EQ(Quantity::Parse("1.5")->Value(), 2);
  EXPECT_LT(*Quantity::Parse("500m"), *Quantity::Parse("1"));
  Quantity a = *Quantity::Parse("1");
  a += *Quantity::Parse("500m");
  EXPECT_EQ(a.MilliValue(), 1500);
}

TEST(QuantityTest, RejectsInvalid) {
  for (const char* bad :
       {"", "abc", "1.2.3", "1Qi", "1 Gi", "e3", "1e", "--1", "1ee3", "99999999999999999999999"}) {
    auto q = Quantity::Parse(bad);
    ASSERT_FALSE(q.has_value()) << bad;
    EXPECT_NE(q.error().message().find("quantities must match the regular expression"),
              std::string::npos);
  }
}

TEST(QuantityTest, RoundingAndArithmeticLikeKubernetes) {
  EXPECT_EQ(Quantity::Parse("-1.5m")->MilliValue(), -2);
  EXPECT_EQ(Quantity::Parse("-1500m")->Value(), -2);
  EXPECT_EQ(Quantity::Parse("1n")->MilliValue(), 1);
  EXPECT_EQ(Quantity::Parse("0")->MilliValue(), 0);
  Quantity total;
  total += *Quantity::Parse("1Gi");
  total += *Quantity::Parse("512Mi");
  EXPECT_EQ(total.ToString(), "1536Mi");
  Quantity cpu = *Quantity::Parse("1");
  cpu -= *Quantity::Parse("250m");
  EXPECT_EQ(cpu.ToString(), "750m");
  EXPECT_EQ(cpu.Sign(), 1);
  cpu -= *Quantity::Parse("1");
  EXPECT_EQ(cpu.ToString(), "-250m");
  EXPECT_EQ(cpu.Sign(), -1);
  EXPECT_EQ(Quantity().Sign(), 0);
}

TEST(QuantityTest, MoreCanonicalForms) {
  EXPECT_EQ(Canon(".5"), "500m");
  EXPECT_EQ(Canon("0.5m"), "500u");
  EXPECT_EQ(Canon("12e2"), "1200");
  EXPECT_EQ(Canon("1.5e3"), "1500");
  EXPECT_EQ(Canon("5e-3"), "5e-3");
  EXPECT_EQ(Canon("1.5Ki"), "1536");
  EXPECT_EQ(Canon("1025Ki"), "1025Ki");
  EXPECT_EQ(Canon("1000Mi"), "1000Mi");
  EXPECT_EQ(Canon("100M"), "100M");
  EXPECT_EQ(Canon("1E"), "1E");
  // Text already in canonical shape is kept as written.
  EXPECT_EQ(Canon("1E3"), "1E3");
  EXPECT_EQ(Canon("+1"), "+1");
  EXPECT_EQ(Canon("01"), "01");
  EXPECT_EQ(Canon("+1000"), "1k");
  EXPECT_EQ(Canon("1.0"), "1");
  EXPECT_EQ(Canon("1.50Gi"), "1536Mi");
  EXPECT_EQ(Canon("8Gi"), "8Gi");
  Quantity q = *Quantity::Parse("+1");
  q += *Quantity::Parse("0");
  EXPECT_EQ(q.ToString(), "1");
}

}  // namespace
}  // namespace skiff
