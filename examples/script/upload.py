#!/usr/bin/env python3
"""Upload photos from a script with Tencent's cos-python-sdk-v5 and temporary credentials.

For each file the script asks the auth server for a credential scoped to one new key
(`POST /v1/cos/credentials`, scope "key": the server names the key from the file's
extension), then lets the SDK upload it with the temporary key and its security token.
The script never holds the storage secret.

    pip install cos-python-sdk-v5
    python3 upload.py --server http://127.0.0.1:8080 --dev-user alice cat.jpg dog.png
    TOKEN=<a JWT from /v1/auth/login> python3 upload.py --server https://api.example.com cat.jpg

Prints one JSON line per file: {"file", "key", "url", "etag"}. Exits 1 with the server's
message when a credential is refused (say, a file type the server does not allow).
"""

import argparse
import json
import mimetypes
import os
import sys
from urllib.parse import quote, urlsplit

import requests
from qcloud_cos import CosConfig, CosS3Client


def die(message):
    print("upload.py: " + message, file=sys.stderr)
    sys.exit(1)


def call(server, path, token=None, body=None):
    """POSTs JSON to the auth server; returns the reply, or exits with its message."""
    headers = {"Authorization": "JWT " + token} if token else {}
    r = requests.post(server + path, json=body or {}, headers=headers, timeout=30)
    if not r.ok:
        try:
            message = r.json()["message"]
        except (ValueError, KeyError):
            message = r.text
        die("%s: HTTP %d: %s" % (path, r.status_code, message))
    return r.json()


def client_for(cred):
    """A COS client that signs with the temporary credential and sends its token.

    `Endpoint` is where the bucket answers: the embedded server's own address, or
    https://<bucket>.cos.<region>.myqcloud.com for Tencent COS.
    """
    endpoint = urlsplit(cred["Endpoint"])
    conf = CosConfig(
        Region=cred["Region"],
        SecretId=cred["TmpSecretId"],
        SecretKey=cred["TmpSecretKey"],
        Token=cred["SecurityToken"],
        Scheme=endpoint.scheme,
        Domain=endpoint.netloc,
    )
    return CosS3Client(conf)


def upload(server, token, path, directory):
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    cred = call(server, "/v1/cos/credentials", token, {
        "scope": "key",
        "ext": ext,
        "dir": directory,
        "size": os.path.getsize(path),
        "content_type": content_type,
    })
    # upload_file sends a simple PUT, or a multipart upload for a large file.
    reply = client_for(cred).upload_file(
        Bucket=cred["Bucket"], Key=cred["Key"], LocalFilePath=path, ContentType=content_type)
    url = "%s/%s" % (cred["Endpoint"], quote(cred["Key"]))
    # The reply holds the response headers (a simple PUT) or the completion's fields
    # (multipart); their case differs.
    etag = next((v for k, v in reply.items() if k.lower() == "etag"), "")
    return {"file": path, "key": cred["Key"], "url": url, "etag": etag.strip('"')}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True, help="the auth server, e.g. http://127.0.0.1:8080")
    ap.add_argument("--dev-user", help="log in as this dev user (embedded mode); else $TOKEN")
    ap.add_argument("--dir", help="a directory inside your upload prefix, e.g. photos")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    server = args.server.rstrip("/")
    if args.dev_user:
        token = call(server, "/v1/auth/dev-login", body={"user": args.dev_user})["access_token"]
    else:
        token = os.environ.get("TOKEN") or die("give --dev-user or set TOKEN to a JWT")
    for path in args.files:
        if not os.path.isfile(path):
            die("%s: no such file" % path)
        print(json.dumps(upload(server, token, path, args.dir)), flush=True)


if __name__ == "__main__":
    main()
