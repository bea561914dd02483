#!/usr/bin/env python3
"""TC3-HMAC-SHA256 signatures computed by tencentcloud-sdk-python-common, offline.

cos-sign's TC3 signer is checked against this script (crates/cos-sign/tests/tc3/interop.rs).
It reads one JSON object per line on stdin and prints one JSON object per line on
stdout, in the same order. Nothing is sent on the network.

Two kinds of input line:

* {"mode": "raw", "secret_id", "secret_key", "service", "host", "timestamp",
   "content_type", "method": "POST", "payload_b64"}   (or "method": "GET", "query")
  signs exactly these bytes with the SDK's own canonical-request code
  (AbstractClient._get_tc3_signature, which calls Sign.sign_tc3) and prints
  {"authorization", "signature"}; the Authorization is formatted as the SDK
  formats it in _build_req_with_tc3_signature.

* {"mode": "client", "secret_id", "secret_key", "token" (may be null), "service",
   "version", "action", "region", "host", "timestamp", "params"}
  builds the request the way a real SDK call does (CommonClient, POST JSON, with
  the SDK's clock pinned to "timestamp") and prints {"authorization", "headers",
  "body"}, so the caller can sign the same body and headers itself and compare.
"""

import base64
import json
import sys
import types
from datetime import datetime, timezone
from unittest import mock

from tencentcloud.common import abstract_client
from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.credential import Credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile


def utc_date(timestamp):
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def sign_raw(line):
    timestamp = int(line["timestamp"])
    method = line["method"]
    headers = {
        "Content-Type": line["content_type"],
        "Host": line["host"],
        "X-TC-Timestamp": str(timestamp),
    }
    request = RequestInternal(line["host"], method, "/", header=headers)
    if method == "GET":
        request.data = line["query"]
    else:
        request.data = base64.b64decode(line["payload_b64"])
    date = utc_date(timestamp)
    # _get_tc3_signature reads neither `self` nor `params`; it hashes request.data
    # (bytes as they are, str as UTF-8) and the two headers.
    signature = AbstractClient._get_tc3_signature(
        None, None, request, date, line["service"], line["secret_key"]
    )
    authorization = (
        "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, Signature=%s"
        % (line["secret_id"], date, line["service"], signature)
    )
    return {"authorization": authorization, "signature": signature}


def sign_client(line):
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=line["host"], reqMethod="POST"))
    credential = Credential(line["secret_id"], line["secret_key"], line.get("token"))
    client = CommonClient(line["service"], line["version"], credential, line["region"], profile)
    request = RequestInternal(line["host"], "POST", "/", header={})
    pinned_clock = types.SimpleNamespace(time=lambda: float(line["timestamp"]))
    with mock.patch.object(abstract_client, "time", pinned_clock):
        client._build_req_inter(line["action"], line["params"], request, {})
    body = request.data
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return {
        "authorization": request.header["Authorization"],
        "headers": request.header,
        "body": body,
    }


def main():
    for text in sys.stdin:
        if not text.strip():
            continue
        line = json.loads(text)
        out = sign_client(line) if line["mode"] == "client" else sign_raw(line)
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
