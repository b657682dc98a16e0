"""Loopback sinks for the benchmarks, written as bare asyncio protocols on uvloop so that they cost as little of
the machine's two cores as possible and the numbers measure the service, not the sink.

    python bench/sinks.py smtp PORT [DELAY_MS]  # accepts and discards every message (EHLO, PIPELINING, 8BITMIME,
                                                # SMTPUTF8); each reply sent DELAY_MS late (a distant server)
    python bench/sinks.py http PORT   # answers every request 200 with a JSON id, like a provider that works
"""

from __future__ import annotations

import asyncio
import itertools
import sys

_ids = itertools.count(1)
REPLY_DELAY = 0.0  # seconds added before each SMTP reply is written (replies keep their order)


class SmtpSink(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        self.reply(b"220 127.0.0.1 sink ESMTP\r\n")

    def reply(self, data: bytes) -> None:
        if REPLY_DELAY:
            asyncio.get_running_loop().call_later(REPLY_DELAY, self.transport.write, data)
        else:
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    # keep only what could be the start of the terminator
                    if len(self.buffer) > 4:
                        self.buffer = self.buffer[-4:]
                    break
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                replies.append(b"250 OK queued as %d\r\n" % next(_ids))
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            verb = line[:4].upper()
            if verb == b"EHLO":
                replies.append(b"250-127.0.0.1\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                               b"250 SIZE 33554432\r\n")
            elif verb == b"DATA":
                # the terminator search starts at the CRLF before the first body line
                self.in_data = True
                self.buffer = b"\r\n" + self.buffer
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 Bye\r\n")
                self.reply(b"".join(replies))
                asyncio.get_running_loop().call_later(REPLY_DELAY, self.transport.close)
                return
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                replies.append(b"250 OK\r\n")
            else:
                replies.append(b"502 Command not implemented\r\n")
        if replies:
            self.reply(b"".join(replies))


class HttpSink(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                break
            length = 0
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < head_end + 4 + length:
                break
            self.buffer = self.buffer[head_end + 4 + length :]
            n = next(_ids)
            body = b'{"id": "sink-%d", "sid": "SM%d", "name": "projects/bench/messages/%d"}' % (n, n, n)
            out.append(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                       % (len(body), body))
        if out:
            self.transport.write(b"".join(out))


async def serve(kind: str, port: int) -> None:
    protocol = SmtpSink if kind == "smtp" else HttpSink
    server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    REPLY_DELAY = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0
    try:
        import uvloop

        uvloop.run(serve(sys.argv[1], int(sys.argv[2])))
    except ImportError:
        asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
