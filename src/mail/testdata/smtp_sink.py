"""A real SMTP server on 127.0.0.1 for paperboy's mail tests (Debian's python3-aiosmtpd).

Every accepted message is written to OUT_DIR as NNNN.eml (the bytes received) and NNNN.json
(the envelope and the message as Python's email package decodes it), so tests check what a
mail client would see. Recipients whose local part starts with "reject" get a permanent 550,
those starting with "later" a temporary 451. Prints "PORT <n>" once listening.
With --count-only (for benchmarks) it only counts what it accepts, in OUT_DIR/count.
"""
import argparse
import email
import email.policy
import json
import os
import signal
import socket
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir, count_only=False):
        self.out_dir = out_dir
        self.count_only = count_only
        self.count = len([n for n in os.listdir(out_dir) if n.endswith(".eml")])
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if self.count_only:
            with self.lock:
                self.count += 1
                if self.count % 1000 == 0:
                    with open(os.path.join(self.out_dir, "count"), "w") as f:
                        f.write(str(self.count))
            return "250 OK"
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                # As a client shows it: LF line ends (the CRLF before a MIME boundary belongs to it).
                parts[part.get_content_type()] = part.get_content().replace("\r\n", "\n")
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k: str(v) for k, v in message.items()},
            "defects": [str(d) for d in message.defects],
            "text": parts.get("text/plain", ""),
            "html": parts.get("text/html", ""),
            "max_line_octets": max(len(line) for line in raw.split(b"\r\n")),
        }
        with self.lock:
            self.count += 1
            name = os.path.join(self.out_dir, "%04d" % self.count)
        with open(name + ".eml", "wb") as f:
            f.write(raw)
        with open(name + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.rename(name + ".json.tmp", name + ".json")
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count-only", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    port = args.port or free_port()
    sink = Sink(args.out_dir, args.count_only)
    controller = Controller(sink, hostname="127.0.0.1", port=port,
                            decode_data=False, data_size_limit=0)
    controller.start()
    print("PORT %d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    if args.count_only:
        with open(os.path.join(args.out_dir, "count"), "w") as f:
            f.write(str(sink.count))


if __name__ == "__main__":
    main()
