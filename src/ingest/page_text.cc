// Plain-text capture of a Daily Papers listing page (what a browser's "select all, copy" gives):
// a header ending in the page's date ("Nov 6"), then for each paper a title line, an abstract
// line and, usually, "• N authors", "·" and "Jun 9, 2024 12" (date, then upvotes when any).
// Dates without a year are in the capture's year.
#include <array>
#include <cctype>
#include <chrono>

#include "core/date.h"
#include "ingest/importers.h"
#include "ingest/text.h"

namespace paperboy::ingest {

namespace {

constexpr std::string_view kBullet = "\xE2\x80\xA2";  // •
constexpr std::string_view kMiddleDot = "\xC2\xB7";   // ·

struct PageDate {
  unsigned month = 0;
  unsigned day = 0;
  int year = 0;  // 0: the page did not show one
  int64_t upvotes = 0;
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// Digits at the front of text, consumed; nullopt if none or more than max_digits.
std::optional<int64_t> take_number(std::string_view& text, size_t max_digits) {
  size_t n = 0;
  while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) ++n;
  if (n == 0 || n > max_digits) return std::nullopt;
  int64_t value = 0;
  for (size_t i = 0; i < n; ++i) value = value * 10 + (text[i] - '0');
  text.remove_prefix(n);
  return value;
}

// "Nov 6", "Jun 9, 2024", "Jan 6 5", "Jul 21, 2024 2": the whole line or nothing.
std::optional<PageDate> parse_page_date(std::string_view line) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  PageDate date;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (line.starts_with(kMonths[i]) && line.size() > 3 && line[3] == ' ') date.month = i + 1;
  }
  if (date.month == 0) return std::nullopt;
  line.remove_prefix(4);
  auto day = take_number(line, 2);
  if (!day) return std::nullopt;
  date.day = static_cast<unsigned>(*day);
  if (line.starts_with(", ")) {
    line.remove_prefix(2);
    auto year = take_number(line, 4);
    if (!year || *year < 1000) return std::nullopt;
    date.year = static_cast<int>(*year);
  }
  if (line.starts_with(' ')) {
    line.remove_prefix(1);
    auto upvotes = take_number(line, 9);
    if (!upvotes) return std::nullopt;
    date.upvotes = *upvotes;
  }
  if (!line.empty()) return std::nullopt;
  return date;
}

// "• 4 authors" -> 4.
std::optional<int> parse_author_count(std::string_view line) {
  if (!line.starts_with(kBullet)) return std::nullopt;
  line = trim(line.substr(kBullet.size()));
  auto count = take_number(line, 6);
  if (!count || !(line == " authors" || line == " author")) return std::nullopt;
  return static_cast<int>(*count);
}

Result<std::string> day_of(const PageDate& date, int capture_year, std::string_view line) {
  using namespace std::chrono;
  year_month_day ymd{year{date.year ? date.year : capture_year}, month{date.month}, day{date.day}};
  if (!ymd.ok()) return fail("bad date " + excerpt(line));
  return format_day(sys_days{ymd});
}

// The newest year the page shows, to infer the capture year when nobody gave it.
Result<int> newest_shown_year(const ImportContext& context) {
  auto input = context.open();
  if (!input) return std::unexpected(input.error());
  LineReader lines(*input, context.options.max_record_bytes);
  int newest = 0;
  for (;;) {
    auto next = lines.next();
    if (!next) return std::unexpected(next.error());
    if (!*next) return newest;
    if ((*next)->too_long) continue;
    if (auto date = parse_page_date(trim((*next)->text))) newest = std::max(newest, date->year);
  }
}

Result<int> capture_year(const ImportContext& context) {
  if (context.options.capture_year > 0) return context.options.capture_year;
  if (auto named = date_in_file_name(context.path)) return std::stoi(named->substr(0, 4));
  auto newest = newest_shown_year(context);
  if (!newest) return std::unexpected(newest.error());
  // The page prints a year only for dates before the capture's year.
  if (*newest > 0) return *newest + 1;
  return static_cast<int>(std::chrono::year_month_day{today()}.year());
}

class PageParser {
 public:
  PageParser(const ImportContext& context, int capture_year)
      : context_(context), capture_year_(capture_year) {}

  // A line that cannot be read (too long, not UTF-8) spoils the paper it belongs to: that paper
  // is rejected whole rather than imported without it.
  Result<void> bad_line(size_t number, std::string reason) {
    if (state_ == State::header) {
      context_.reject(number, std::move(reason));
      return {};
    }
    if (state_ == State::abstract) {
      if (problem_.empty()) problem_ = std::move(reason);
      state_ = State::meta;
      return {};
    }
    // In place of a title.
    if (state_ == State::meta) {
      if (auto done = finish(); !done) return done;
    }
    start(number, "");
    problem_ = std::move(reason);
    state_ = State::abstract;
    return {};
  }

  Result<void> line(size_t number, std::string_view raw) {
    const std::string_view text = trim(raw);
    if (text.empty()) return {};
    if (!is_valid_utf8(text)) return bad_line(number, "not valid UTF-8");
    const auto date = parse_page_date(text);
    switch (state_) {
      case State::header:
        if (date) {
          auto day = day_of(*date, capture_year_, text);
          if (!day)
            return fail(context_.file + ":" + std::to_string(number) +
                        ": page date: " + day.error().message);
          page_day_ = std::move(*day);
          state_ = State::title;
        }
        return {};
      case State::title:
        start(number, text);
        state_ = State::abstract;
        return {};
      case State::abstract:
        if (!parse_author_count(text) && !date && text != kMiddleDot) {
          paper_.abstract = collapse_text(text);
          paper_.code_url = first_github_url(paper_.abstract);
          state_ = State::meta;
          return {};
        }
        state_ = State::meta;
        [[fallthrough]];
      case State::meta:
        if (auto count = parse_author_count(text)) {
          paper_.author_count = *count;
        } else if (date) {
          if (auto day = day_of(*date, capture_year_, text); day) {
            paper_.published = std::move(*day);
          } else if (problem_.empty()) {
            problem_ = day.error().message;
          }
          paper_.upvotes = date->upvotes;
          state_ = State::title;
          return finish();
        } else if (text != kMiddleDot) {
          // No author/date block: this line is the next paper's title.
          if (auto done = finish(); !done) return done;
          start(number, text);
          state_ = State::abstract;
        }
        return {};
    }
    return {};
  }

  Result<void> end() {
    if (state_ == State::header) {
      return fail(context_.file + ": no page date (a line like \"Nov 6\") before the papers");
    }
    if (state_ != State::title) return finish();
    return {};
  }

 private:
  enum class State { header, title, abstract, meta };

  void start(size_t number, std::string_view title) {
    paper_ = Paper{};
    paper_.title = collapse_text(title);
    paper_line_ = number;
    problem_.clear();
  }

  Result<void> finish() {
    Paper paper = std::move(paper_);
    paper_ = Paper{};
    if (problem_.empty() && paper.title.empty()) problem_ = "missing title";
    if (!problem_.empty()) {
      context_.reject(paper_line_, problem_);
      return {};
    }
    paper.feed_day = page_day_;
    paper.source = "page-text";
    return context_.deliver(std::move(paper));
  }

  const ImportContext& context_;
  int capture_year_;
  State state_ = State::header;
  std::string page_day_;
  Paper paper_;
  size_t paper_line_ = 0;
  std::string problem_;
};

}  // namespace

Result<void> import_page_text(const ImportContext& context) {
  auto year = capture_year(context);
  if (!year) return std::unexpected(year.error());
  auto input = context.open();
  if (!input) return std::unexpected(input.error());
  LineReader lines(*input, context.options.max_record_bytes);
  PageParser parser(context, *year);
  for (;;) {
    auto next = lines.next();
    if (!next) return std::unexpected(next.error());
    if (!*next) return parser.end();
    const LineReader::Line& line = **next;
    auto handled =
        line.too_long
            ? parser.bad_line(line.number, "line " + std::to_string(line.number) + " of " +
                                               std::to_string(line.length) +
                                               " bytes is over the limit of " +
                                               std::to_string(context.options.max_record_bytes) +
                                               " bytes; paper skipped")
            : parser.line(line.number, line.text);
    if (!handled) return handled;
  }
}

}  // namespace paperboy::ingest
