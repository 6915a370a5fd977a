#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace paperboy::cli {
namespace {

std::string finish_into_file(size_t total_bytes, size_t records, size_t bytes) {
  std::FILE* file = std::tmpfile();
  {
    Progress progress("snapshot.json", total_bytes, file);
    progress.update(records / 2, bytes / 2);  // a log gets no line before five seconds
    progress.finish(records, bytes);
  }
  std::rewind(file);
  std::string text;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, file)) text.append(buffer, n);
  std::fclose(file);
  return text;
}

TEST(Progress, WritesOnePlainFinalLineWithRatesWhenNotATerminal) {
  const std::string text = finish_into_file(2'000'000, 1'234'567, 2'000'000);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
  EXPECT_TRUE(
      text.starts_with("snapshot.json: [########################] 100% 1,234,567 records, "))
      << text;
  EXPECT_NE(text.find(" records/s, "), std::string::npos) << text;
  EXPECT_NE(text.find(" MB/s, "), std::string::npos) << text;
}

TEST(Progress, ShowsNoByteRateForWorkThatReadsNoBytes) {
  const std::string text = finish_into_file(0, 607, 0);
  EXPECT_TRUE(text.starts_with("snapshot.json: 607 records, ")) << text;
  EXPECT_EQ(text.find("MB/s"), std::string::npos) << text;
}

}  // namespace
}  // namespace paperboy::cli
