"""A minimal HTTP/2 server on loopback (cleartext, prior knowledge) that refuses
streams on purpose with RST_STREAM REFUSED_STREAM, for what nginx will not do on
demand. It speaks just enough HTTP/2 for a client that sends small GET requests:
SETTINGS (and their ACK), HEADERS in one frame, and answers each accepted stream
with ":status 200" (HPACK static table entry 8) and a 3-byte DATA frame.

mode "alternate": every other stream of a connection is refused, starting with the first;
mode "all": every stream is refused."""
import socketserver
import struct

from local_http import ThreadedServer

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
REFUSED_STREAM = 0x7


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


class Handler(socketserver.BaseRequestHandler):
    def read_exactly(self, size):
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def handle(self):
        owner = self.server.owner
        self.request.settimeout(30)  # a client that stalls cannot hold the thread forever
        try:
            if self.read_exactly(len(PREFACE)) != PREFACE:
                return
            self.request.sendall(frame(SETTINGS, 0, 0))
            streams = 0
            while True:
                header = self.read_exactly(9)
                length = int.from_bytes(header[:3], "big")
                kind, flags = header[3], header[4]
                stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
                self.read_exactly(length)
                if kind == SETTINGS and not flags & ACK:
                    self.request.sendall(frame(SETTINGS, ACK, 0))
                elif kind == PING and not flags & ACK:
                    self.request.sendall(frame(PING, ACK, 0, b"\0" * 8))
                elif kind == HEADERS:
                    streams += 1
                    refuse = owner.mode == "all" or streams % 2 == 1
                    owner.count("refused" if refuse else "served")
                    if refuse:
                        self.request.sendall(frame(RST_STREAM, 0, stream, struct.pack(">I", REFUSED_STREAM)))
                    else:
                        self.request.sendall(frame(HEADERS, END_HEADERS, stream, b"\x88") +
                                             frame(DATA, END_STREAM, stream, b"ok\n"))
                elif kind == GOAWAY:
                    return
        except (EOFError, OSError):
            return


class RefusingServer(ThreadedServer):
    def __init__(self, mode):
        super().__init__(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))
        self.mode = mode
        self.counts = {"refused": 0, "served": 0}
        self.server.owner = self

    def count(self, what):
        with self.lock:
            self.counts[what] += 1
