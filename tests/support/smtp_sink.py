"""A real SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1:PORT, writing each
message it accepts to DIR as NNNN.eml (the DATA as received) and NNNN.rcpt (one
recipient per line).

    python3 smtp_sink.py PORT DIR [--defer N]

--defer N answers the first N messages' DATA with 451 (a transient failure, RFC 5321
section 4.2.1), so the sender must retry. Recipients whose local part starts with
"bounce" are refused with 550 (permanent). Prints "ready" once listening.
"""

import argparse
import pathlib
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out: pathlib.Path, defer: int):
        self.out = out
        self.defer = defer
        self.accepted = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@", 1)[0].startswith("bounce"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.defer > 0:
                self.defer -= 1
                return "451 4.3.0 Try again later"
            self.accepted += 1
            n = self.accepted
        stem = self.out / f"{n:04}"
        stem.with_suffix(".rcpt").write_text("\n".join(envelope.rcpt_tos))
        data = envelope.original_content or envelope.content
        stem.with_suffix(".eml").write_bytes(data if isinstance(data, bytes) else data.encode())
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--defer", type=int, default=0)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(args.dir, args.defer), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    # Serve until the test kills us or closes our stdin.
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
