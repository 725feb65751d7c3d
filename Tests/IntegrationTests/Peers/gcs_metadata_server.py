"""A Google metadata server and Cloud Storage media download on loopback, for the node's
AIP_STORAGE_URI packages: GET /computeMetadata/v1/instance/service-accounts/default/token
(requires Metadata-Flavor: Google) gives a token; GET /storage/v1/b/BUCKET/o/OBJECT?alt=media
(requires that token) serves FOLDER/BUCKET/OBJECT. Prints its URL, then serves until killed."""
import json
import os
import signal
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FOLDER = sys.argv[1]
TOKEN = "ya29.metadata-token"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.answer(403, b'{"error":"Missing Metadata-Flavor:Google header."}')
            return self.answer(200, json.dumps({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}).encode())
        if path.startswith("/storage/v1/b/") and "alt=media" in query:
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                return self.answer(401, b'{"error":{"code":401,"message":"Invalid Credentials"}}')
            bucket, _, rest = path[len("/storage/v1/b/"):].partition("/o/")
            file = os.path.join(FOLDER, bucket, urllib.parse.unquote(rest))
            if not os.path.isfile(file):
                return self.answer(404, b'{"error":{"code":404,"message":"No such object"}}')
            with open(file, "rb") as handle:
                return self.answer(200, handle.read(), "application/zip")
        self.answer(404, b"{}")


# The test runner may start children with SIGTERM blocked or ignored; stop on it explicitly.
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"serving on 127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
