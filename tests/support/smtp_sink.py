#!/usr/bin/env python3
"""A loopback SMTP server for the e-mail tests, built on aiosmtpd.

Every message it accepts is written to --dir as N.eml (the raw message) and
N.json (the envelope plus the message as Python's e-mail parser reads it:
decoded headers, the text/plain body and the text/html alternative), so the
tests check what a real mail reader would show, not what they sent.

    python3 smtp_sink.py --dir DIR --port PORT [--reject ADDR]... [--defer ADDR]... [--auth USER:PASS]
                         [--tls starttls|smtps --cert PEM --key PEM]

--port 0 picks a free port. Once listening it prints "listening on HOST:PORT".
--reject answers RCPT for ADDR with 550, --defer with 451. --auth offers AUTH
(PLAIN, LOGIN) over plain text and accepts only USER:PASS; each refused login
adds a line to DIR/refused-logins. --tls starttls
offers and requires STARTTLS, --tls smtps speaks TLS from the first byte,
both with the certificate chain --cert and its key --key.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, reject, defer):
        self.directory = directory
        self.reject = {a.lower() for a in reject}
        self.defer = {a.lower() for a in defer}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.defer:
            return f"451 4.3.0 <{address}>: Temporary lookup failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        login = session.auth_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_login": login.decode() if isinstance(login, bytes) else login,
            "headers": {name: str(message[name]) for name in
                        ["From", "To", "Reply-To", "Subject", "Message-ID", "Content-Type", "MIME-Version"]
                        if message[name] is not None},
            "content_type": message.get_content_type(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None and html is not text else None,
        }
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        # Written under a temporary name and renamed, so a reader never sees half a file.
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
        os.replace(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


def authenticator(expected, directory):
    user, _, password = expected.partition(":")

    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user and auth_data.password.decode() == password)
        if not ok:
            with open(os.path.join(directory, "refused-logins"), "a", encoding="utf-8") as f:
                f.write(mechanism + "\n")
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--auth")
    parser.add_argument("--tls", choices=["starttls", "smtps"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    sink = Sink(args.dir, args.reject, args.defer)
    options = {"hostname": "sink.test", "decode_data": False, "enable_SMTPUTF8": True}
    if args.auth:
        options.update(authenticator=authenticator(args.auth, args.dir), auth_require_tls=False)
    wrapped = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            wrapped = context
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, **options), args.host, args.port, ssl=wrapped)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
