"""A small threaded HTTP/1.1 server on loopback for the behaviours nginx cannot
play (a server that stalls on purpose, a proxy that injects faults). Subclasses
define on_get(request), called on the request's own thread with `self.lock`
available; the server runs while the `with` block does."""
import http.server
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner = None  # the LocalHttpServer, set per server class below

    def do_GET(self):
        self.owner.on_get(self)

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ThreadedServer:
    """Runs a socketserver server (made by the subclass, in self.server) on its
    own thread while the `with` block does; `self.lock` guards the counts the
    subclass keeps."""

    def __init__(self, server):
        self.lock = threading.Lock()
        self.server = server
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"


class LocalHttpServer(ThreadedServer):
    def __init__(self):
        handler = type("BoundHandler", (Handler,), {"owner": self})
        super().__init__(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler))

    def on_get(self, request):
        raise NotImplementedError
