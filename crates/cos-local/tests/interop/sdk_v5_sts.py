"""Drive a cos-local store with Tencent's cos-python-sdk-v5 using temporary
credentials (TmpSecretId, TmpSecretKey and SecurityToken) scoped to one prefix.

Usage: python sdk_v5_sts.py --port PORT --appid APPID --bucket SHORT --region REGION
       --prefix u/12/ --workdir DIR
with COS_TMP_SECRET_ID, COS_TMP_SECRET_KEY and COS_SECURITY_TOKEN in the
environment. The SDK is pointed at 127.0.0.1:PORT with IP/Port, so it sends and
signs Host: <bucket>.cos.<region>.myqcloud.com and signs the token header.
Exits non-zero on the first failed check and prints one "PROVED:" line per
check that held.
"""

import argparse
import hashlib
import os
import sys

import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

# The checks and their output, shared with the permanent-key script.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "..", "tests", "interop", "python"))
from sdk_v5 import check, expect_error, fail, header, proved  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True, type=int, help="the store's port on 127.0.0.1")
    ap.add_argument("--appid", required=True)
    ap.add_argument("--bucket", required=True, help="default bucket, short name")
    ap.add_argument("--region", required=True)
    ap.add_argument("--prefix", required=True, help="the credentials' prefix, u/12/")
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    bucket = "%s-%s" % (args.bucket, args.appid)
    prefix = args.prefix
    token = os.environ["COS_SECURITY_TOKEN"]

    conf = CosConfig(Region=args.region, SecretId=os.environ["COS_TMP_SECRET_ID"],
                     SecretKey=os.environ["COS_TMP_SECRET_KEY"], Token=token,
                     Scheme="http", IP="127.0.0.1", Port=args.port)
    client = CosS3Client(conf, retry=0)

    # PUT / GET / HEAD under the prefix.
    body = b"\xff\xd8\xff temporary credentials " * 200
    key = prefix + "sts/\u6d4b\u8bd5 (1).jpg"
    r = client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/jpeg")
    check(header(r, "ETag").strip('"') == hashlib.md5(body).hexdigest(), "PUT ETag is the MD5")
    proved("put_object with Token= stores a key under the credentials' prefix")

    r = client.get_object(Bucket=bucket, Key=key)
    check(r["Body"].get_raw_stream().read() == body, "GET returns the bytes that were PUT")
    check(header(r, "Content-Type") == "image/jpeg", "GET returns the content type")
    r = client.head_object(Bucket=bucket, Key=key)
    check(int(header(r, "Content-Length")) == len(body), "HEAD Content-Length")
    proved("get_object and head_object with the temporary credentials")

    # A presigned GET: the token passed as a (signed) parameter. With IP/Port
    # the URL names 127.0.0.1:PORT (the store's default bucket).
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Expired=300,
                                   Params={"x-cos-security-token": token})
    check("q-url-param-list=x-cos-security-token" in url, "the token is signed: %s" % url)
    resp = requests.get(url)
    check(resp.status_code == 200 and resp.content == body,
          "presigned GET with the token signed: %d %s" % (resp.status_code, resp.text[:300]))
    proved("a presigned URL with x-cos-security-token in Params downloads the object")

    # LIST the own prefix.
    client.put_object(Bucket=bucket, Key=prefix + "sts/b.png", Body=b"png", ContentType="image/png")
    r = client.list_objects(Bucket=bucket, Prefix=prefix + "sts/")
    keys = sorted(c["Key"] for c in r.get("Contents", []))
    check(keys == sorted([key, prefix + "sts/b.png"]), "list keys: %r" % keys)
    proved("list_objects of the credentials' own prefix")

    # Multipart upload_file of a 12 MiB file (1 MiB parts).
    big = os.path.join(args.workdir, "big-12MiB.jpg")
    with open(big, "wb") as f:
        block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
        for i in range(12):
            f.write(bytes([i]) + block[1:])
    with open(big, "rb") as f:
        want = hashlib.sha1(f.read()).hexdigest()
    big_key = prefix + "sts/big.jpg"
    r = client.upload_file(Bucket=bucket, Key=big_key, LocalFilePath=big, PartSize=1,
                           MAXThread=4, EnableMD5=False)
    etag = header(r, "ETag").strip('"')
    check(etag.endswith("-12"), "multipart ETag %s ends with -12 (12 parts)" % etag)
    r = client.head_object(Bucket=bucket, Key=big_key)
    check(int(header(r, "Content-Length")) == 12 * 1024 * 1024, "multipart object size")
    check(header(r, "Content-Type") == "image/jpeg", "multipart object type guessed from the key")
    r = client.get_object(Bucket=bucket, Key=big_key)
    h = hashlib.sha1()
    stream = r["Body"].get_raw_stream()
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
    check(h.hexdigest() == want, "multipart object content")
    proved("upload_file of a 12 MiB file uses multipart (12 x 1 MiB parts, ETag %s) and reads back identical" % etag)

    # Outside the prefix: refused, nothing stored.
    outside = "u/13/" if prefix != "u/13/" else "u/14/"
    try:
        client.put_object(Bucket=bucket, Key=outside + "x.jpg", Body=b"x", ContentType="image/jpeg")
        fail("PUT outside the prefix: expected 403 AccessDenied, the request succeeded")
    except CosServiceError as e:
        check(e.get_status_code() == 403 and e.get_error_code() == "AccessDenied",
              "PUT outside the prefix: %d %s" % (e.get_status_code(), e.get_error_code()))
        check("name/cos:PutObject" in e.get_error_msg() and token not in e.get_error_msg(),
              "the refusal names the action, never the token: %s" % e.get_error_msg())
    expect_error(lambda: client.list_objects(Bucket=bucket, Prefix=outside),
                 403, "AccessDenied", "LIST outside the prefix")
    expect_error(lambda: client.head_object(Bucket=bucket, Key=outside + "x.jpg"),
                 403, None, "HEAD outside the prefix")
    proved("put_object and list_objects outside the prefix answer 403 AccessDenied")

    # A type outside the credentials' list.
    expect_error(lambda: client.put_object(Bucket=bucket, Key=prefix + "sts/page.html", Body=b"<p>",
                                           ContentType="text/html"),
                 403, "AccessDenied", "PUT of text/html")
    proved("put_object of a type the credentials do not allow answers 403 AccessDenied")

    print("ALL STS SDK CHECKS PASSED", flush=True)


if __name__ == "__main__":
    main()
