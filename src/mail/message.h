// Mail messages as they travel over SMTP: RFC 5322 headers, a MIME multipart/alternative body
// (plain text and HTML, quoted-printable), RFC 2047 encoded words for non-ASCII names and
// subjects, and RFC 8058 one-click unsubscribe headers.
//
// Everything that reaches a header is checked before rendering: an address that is not one, or
// a name or subject holding CR, LF or another control character, is refused with an Error
// rather than cleaned up, so that no input can add a header of its own.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"

namespace paperboy::mail {

struct Mailbox {
  std::string display_name;  // UTF-8, may be empty
  std::string address;       // local@domain
};

// Accepts the addresses paperboy delivers to: ASCII local@domain with a dot-atom local part
// (at most 64 octets) and a domain of letters, digits and inner hyphens with at least one dot,
// 254 octets in all. The message names what is wrong.
Result<void> check_address(std::string_view address);

struct Message {
  Mailbox from;
  Mailbox to;
  std::string subject;  // UTF-8
  std::string text;     // plain-text body, UTF-8, lines ended by LF or CRLF
  std::string html;     // HTML body; empty: a text/plain message
  // Where a mail client's "unsubscribe" button posts to (RFC 8058); empty: no List-Unsubscribe.
  std::string unsubscribe_url;
  // Without angle brackets; empty: a random id at the sender's domain.
  std::string message_id;
  std::chrono::sys_seconds date{};
};

// The message as SMTP DATA: CRLF line ends, every line at most 78 octets. Fails when an address,
// name or subject is refused (see above) or the unsubscribe URL is not an http(s) URL.
Result<std::string> render_message(const Message& message);

// RFC 2047 "B" encoded words for `text` when it is not plain printable ASCII, folded so that no
// line of the header exceeds 78 octets; `text` unchanged otherwise. `header_length` is how many
// octets the header name and earlier text already take on the first line.
std::string encode_header_text(std::string_view text, size_t header_length);

// Quoted-printable (RFC 2045) with CRLF hard line breaks and soft breaks before 76 octets.
std::string quoted_printable(std::string_view text);

// "Sun, 29 Nov 2026 15:20:00 +0000".
std::string rfc5322_date(std::chrono::sys_seconds when);

}  // namespace paperboy::mail
