#include "mail/message.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <utf8proc.h>

#include <array>
#include <random>

namespace paperboy::mail {
namespace {

constexpr size_t kHeaderLineLimit = 78;
constexpr size_t kQuotedPrintableLimit = 76;
// An encoded word is at most 75 octets; "=?UTF-8?B?" and "?=" take 12 of them.
constexpr size_t kEncodedWordOverhead = 12;
constexpr size_t kEncodedWordLimit = 75;

bool is_atext(char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kSpecials.find(c) != std::string_view::npos;
}

bool is_printable_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

Result<void> check_local_part(std::string_view local) {
  if (local.empty()) return fail("the part before @ is empty");
  if (local.size() > 64) return fail("the part before @ is longer than 64 characters");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return fail("the part before @ has a misplaced dot");
  }
  for (char c : local) {
    if (c != '.' && !is_atext(c)) {
      return fail(fmt::format("the part before @ holds a character mail does not allow ({})",
                              static_cast<unsigned char>(c) < 0x20 || c == 0x7F
                                  ? std::string("control character")
                                  : fmt::format("'{}'", c)));
    }
  }
  return {};
}

Result<void> check_domain(std::string_view domain) {
  if (domain.empty()) return fail("the domain after @ is empty");
  if (domain.size() > 253) return fail("the domain is longer than 253 characters");
  if (domain.find('.') == std::string_view::npos) return fail("the domain has no dot");
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63)
      return fail("the domain has an empty or overlong label");
    if (label.front() == '-' || label.back() == '-') {
      return fail("a domain label starts or ends with a hyphen");
    }
    for (char c : label) {
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && c != '-')
        return fail("the domain holds a character other than letters, digits, '-' and '.'");
    }
    start = end + 1;
  }
  return {};
}

// Names and subjects go into headers: UTF-8 text on one line, nothing else.
Result<void> check_header_text(std::string_view text, std::string_view field) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t offset = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (offset < size) {
    utf8proc_int32_t codepoint = 0;
    utf8proc_ssize_t length = utf8proc_iterate(bytes + offset, size - offset, &codepoint);
    if (length <= 0) return fail(fmt::format("{}: not valid UTF-8", field));
    if (codepoint < 0x20 || codepoint == 0x7F || (codepoint >= 0x80 && codepoint < 0xA0) ||
        codepoint == 0x2028 || codepoint == 0x2029) {
      return fail(fmt::format("{}: holds a line break or control character", field));
    }
    offset += length;
  }
  return {};
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

// The longest prefix of `text` of at most `max_bytes` octets that ends on a character boundary.
size_t utf8_prefix_length(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t length = max_bytes;
  while (length > 0 && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) --length;
  return length > 0 ? length : max_bytes;  // not UTF-8 at all: cut anywhere
}

std::string random_hex(size_t bytes) {
  std::random_device device;
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out += fmt::format("{:02x}", device() & 0xFF);
  }
  return out;
}

// The mailbox as it appears in From/To: `name <address>` with the name as atoms, a quoted
// string or encoded words, whichever it needs.
std::string format_mailbox(const Mailbox& mailbox, size_t header_length) {
  const std::string& name = mailbox.display_name;
  if (name.empty()) return mailbox.address;
  std::string phrase;
  if (!is_printable_ascii(name) || name.find("=?") != std::string::npos) {
    phrase = encode_header_text(name, header_length);
  } else {
    bool atoms_only = true;
    for (char c : name) atoms_only = atoms_only && (is_atext(c) || c == ' ');
    if (atoms_only) {
      phrase = name;
    } else {
      phrase = "\"";
      for (char c : name) {
        if (c == '"' || c == '\\') phrase += '\\';
        phrase += c;
      }
      phrase += '"';
    }
  }
  size_t last_line = phrase.rfind("\r\n");
  size_t used = last_line == std::string::npos ? header_length + phrase.size()
                                               : phrase.size() - last_line - 2;
  std::string angle = "<" + mailbox.address + ">";
  return phrase + (used + 1 + angle.size() > kHeaderLineLimit ? "\r\n " : " ") + angle;
}

Result<void> check_mailbox(const Mailbox& mailbox, std::string_view field) {
  if (auto ok = check_address(mailbox.address); !ok) {
    return fail(fmt::format("{} address \"{}\": {}", field, mailbox.address, ok.error().message));
  }
  return check_header_text(mailbox.display_name, fmt::format("{} name", field));
}

Result<void> check_url(std::string_view url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return fail("unsubscribe URL: must start with https:// or http://");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == '"') {
      return fail("unsubscribe URL: holds a space, quote, angle bracket or non-ASCII character");
    }
  }
  return {};
}

void append_part(std::string& out, std::string_view content_type, std::string_view body) {
  out += "Content-Type: ";
  out += content_type;
  out += "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quoted_printable(body);
}

}  // namespace

Result<void> check_address(std::string_view address) {
  if (address.empty()) return fail("empty address");
  if (address.size() > 254) return fail("longer than 254 characters");
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return fail("no @");
  if (auto ok = check_local_part(address.substr(0, at)); !ok) return ok;
  return check_domain(address.substr(at + 1));
}

std::string encode_header_text(std::string_view text, size_t header_length) {
  std::string out;
  size_t line_length = header_length;
  if (is_printable_ascii(text) && text.find("=?") == std::string_view::npos) {
    // Fold at spaces only; a single word longer than a line stays whole (RFC 5322 allows 998).
    size_t start = 0;
    bool line_has_word = false;
    while (start < text.size()) {
      size_t end = text.find(' ', start + 1);
      if (end == std::string_view::npos) end = text.size();
      std::string_view word = text.substr(start, end - start);
      // Each word after the first starts with its space, which becomes the fold's indent.
      if (line_length + word.size() > kHeaderLineLimit && line_has_word && word.front() == ' ') {
        out += "\r\n";
        line_length = 0;
      }
      line_has_word = true;
      out += word;
      line_length += word.size();
      start = end;
    }
    return out;
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t room = kHeaderLineLimit > line_length + kEncodedWordOverhead
                      ? kHeaderLineLimit - line_length - kEncodedWordOverhead
                      : 0;
    room = std::min(room, kEncodedWordLimit - kEncodedWordOverhead);
    size_t raw_bytes = utf8_prefix_length(rest, room / 4 * 3);
    if (raw_bytes == 0) {  // no room left on the first line; a fresh line always has room
      out += "\r\n ";
      line_length = 1;
      continue;
    }
    std::string word = "=?UTF-8?B?" + base64(rest.substr(0, raw_bytes)) + "?=";
    out += word;
    line_length += word.size();
    rest.remove_prefix(raw_bytes);
    if (!rest.empty()) {
      out += "\r\n ";
      line_length = 1;
    }
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    bool has_break = line_end != std::string_view::npos;
    if (!has_break) line_end = text.size();
    std::string_view line = text.substr(line_start, line_end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t column = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      auto c = static_cast<unsigned char>(line[i]);
      bool last = i + 1 == line.size();
      bool literal = (c >= 33 && c <= 126 && c != '=' && !(c == '.' && column == 0)) ||
                     ((c == ' ' || c == '\t') && !last);
      std::string token =
          literal ? std::string(1, static_cast<char>(c)) : fmt::format("={:02X}", c);
      // Leave room for the "=" of a soft break.
      if (column + token.size() > kQuotedPrintableLimit - 1) {
        out += "=\r\n";
        column = 0;
        if (c == '.') token = "=2E";
      }
      out += token;
      column += token.size();
    }
    out += "\r\n";
    line_start = has_break ? line_end + 1 : text.size();
  }
  return out;
}

std::string rfc5322_date(std::chrono::sys_seconds when) {
  return fmt::format("{:%a, %d %b %Y %H:%M:%S} +0000", when);
}

Result<std::string> render_message(const Message& message) {
  if (auto ok = check_mailbox(message.from, "From"); !ok) return std::unexpected(ok.error());
  if (auto ok = check_mailbox(message.to, "To"); !ok) return std::unexpected(ok.error());
  if (auto ok = check_header_text(message.subject, "Subject"); !ok) {
    return std::unexpected(ok.error());
  }
  if (!message.unsubscribe_url.empty()) {
    if (auto ok = check_url(message.unsubscribe_url); !ok) return std::unexpected(ok.error());
  }
  std::string message_id = message.message_id;
  if (message_id.empty()) {
    message_id = random_hex(16) + message.from.address.substr(message.from.address.rfind('@'));
  } else if (auto ok = check_address(message_id); !ok) {
    return fail("Message-ID \"" + message_id + "\": not of the form unique@domain");
  }

  std::string out;
  out += "Date: " + rfc5322_date(message.date) + "\r\n";
  out += "From: " + format_mailbox(message.from, 6) + "\r\n";
  out += "To: " + format_mailbox(message.to, 4) + "\r\n";
  out += "Subject: " + encode_header_text(message.subject, 9) + "\r\n";
  out += "Message-ID: <" + message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (!message.unsubscribe_url.empty()) {
    out += "List-Unsubscribe: <" + message.unsubscribe_url + ">\r\n";
    out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  out += "Auto-Submitted: auto-generated\r\n";
  if (message.html.empty()) {
    append_part(out, "text/plain", message.text);
    return out;
  }
  // Quoted-printable never puts "=_" in its output, so this boundary cannot occur in a part.
  std::string boundary = "=_paperboy_" + random_hex(12);
  out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n";
  append_part(out, "text/plain", message.text);
  out += "--" + boundary + "\r\n";
  append_part(out, "text/html", message.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace paperboy::mail
