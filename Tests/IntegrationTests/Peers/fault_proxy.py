"""An HTTP proxy in front of one API node that injects faults, for the controller's fault test.

Usage: fault_proxy.py UPSTREAM_URL SEED
Prints "fault proxy on http://127.0.0.1:PORT" once it listens. Control (not forwarded):
  POST /__fault/mode with {"error": 0.2, "reset": 0.1, "stall": 0.1, "down": false}
      error: share answered 503; reset: share whose connection is closed without an answer;
      stall: share held 2 s before being forwarded; down: every request's connection is reset.
  GET /__fault/stats -> {"forwarded": n, "errors": n, "resets": n, "stalls": n, "refused": n}
Faults are drawn from a seeded generator so a failing run can be replayed.
"""
import http.client
import os
import signal
import http.server
import json
import random
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

UPSTREAM = urllib.parse.urlparse(sys.argv[1])
RANDOM = random.Random(int(sys.argv[2]))
LOCK = threading.Lock()
MODE = {"error": 0.0, "reset": 0.0, "stall": 0.0, "down": False}
STATS = {"forwarded": 0, "errors": 0, "resets": 0, "stalls": 0, "refused": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reset(self):
        # SO_LINGER 0: the close sends a TCP reset, as a crashed peer would.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/__fault/"):
            with LOCK:
                if self.path == "/__fault/mode":
                    MODE.update(json.loads(body))
                self.answer(200, dict(STATS))
            return
        with LOCK:
            draw = RANDOM.random()
            if MODE["down"]:
                fault = "refused"
            elif draw < MODE["error"]:
                fault = "errors"
            elif draw < MODE["error"] + MODE["reset"]:
                fault = "resets"
            elif draw < MODE["error"] + MODE["reset"] + MODE["stall"]:
                fault = "stalls"
            else:
                fault = "forwarded"
            STATS[fault] += 1
        if fault in ("refused", "resets"):
            return self.reset()
        if fault == "errors":
            return self.answer(503, {"errorType": "ServiceUnavailable", "message": "injected by the fault proxy"})
        if fault == "stalls":
            time.sleep(2)
        upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=300)
        headers = {name: value for name, value in self.headers.items() if name.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        upstream.close()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


# The test runner may start children with SIGTERM blocked or ignored; stop on it explicitly.
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
server = Server(("127.0.0.1", 0), Handler)
print(f"fault proxy on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
