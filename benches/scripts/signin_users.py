#!/usr/bin/env python3
"""Signs in N demo users (cookie mode) and writes their access tokens, one per line.

Usage: signin_users.py BASE_URL HOST N OUT [THREADS]
BASE_URL must be http://127.0.0.1:PORT (only loopback is contacted). Users are named
user-0 ... user-(N-1); each gets its own session through POST /auth/demo/signin.
"""
import http.client
import sys
import threading
import urllib.parse


def main():
    base, host, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    url = urllib.parse.urlsplit(base)
    if url.hostname != "127.0.0.1":
        sys.exit(f"refusing non-loopback address {base}")
    tokens = [None] * n
    errors = []

    def work(k):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {
            "Host": host,
            "st-auth-mode": "cookie",
            "content-type": "application/json",
            "rid": "session",
        }
        for i in range(k, n, threads):
            conn.request("POST", "/auth/demo/signin", body=f'{{"userId":"user-{i}"}}', headers=headers)
            resp = conn.getresponse()
            resp.read()
            token = None
            for name, value in resp.getheaders():
                if name.lower() == "set-cookie" and value.startswith("sAccessToken="):
                    token = value.split(";", 1)[0].split("=", 1)[1]
            if resp.status != 200 or not token:
                errors.append(f"user-{i}: status {resp.status}, no sAccessToken")
                return
            tokens[i] = token
        conn.close()

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        sys.exit(errors[0])
    with open(out, "w") as f:
        f.write("\n".join(tokens) + "\n")


if __name__ == "__main__":
    main()
