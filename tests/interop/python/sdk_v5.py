"""Drive a cos-local store with Tencent's cos-python-sdk-v5 (module qcloud_cos).

Usage: python sdk_v5.py --endpoint 127.0.0.1:PORT --appid APPID --bucket SHORT --workdir DIR
with COS_SECRET_ID / COS_SECRET_KEY in the environment. Exits non-zero on the
first failed check and prints one "PROVED:" line per check that held.
"""

import argparse
import hashlib
import os
import sys

import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError


def proved(msg):
    print("PROVED: " + msg, flush=True)


def fail(msg):
    print("FAILED: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def header(resp, name):
    """A header from an SDK response dict, whatever the case of its name."""
    for k, v in resp.items():
        if k.lower() == name.lower():
            return v
    fail("response has no %s header: %r" % (name, sorted(resp)))


def expect_error(fn, status, code, what):
    try:
        fn()
    except CosServiceError as e:
        # HEAD answers have no body, so only the status is checked for them.
        if e.get_status_code() != status or (code is not None and e.get_error_code() != code):
            fail("%s: expected %d %s, got %d %s (%s)" % (
                what, status, code, e.get_status_code(), e.get_error_code(), e.get_error_msg()))
        return
    fail("%s: expected %d %s, the request succeeded" % (what, status, code))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True, help="host:port of the store")
    ap.add_argument("--appid", required=True)
    ap.add_argument("--bucket", required=True, help="default bucket, short name")
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    sid = os.environ["COS_SECRET_ID"]
    skey = os.environ["COS_SECRET_KEY"]
    bucket = "%s-%s" % (args.bucket, args.appid)

    # A custom domain (the bare host:port) addresses the store's default bucket.
    conf = CosConfig(Region="ap-local", SecretId=sid, SecretKey=skey,
                     Domain=args.endpoint, Scheme="http")
    client = CosS3Client(conf, retry=0)

    # PUT / GET / HEAD
    body = b"hello from cos-python-sdk-v5\n" * 100
    key = "interop/sdk/\u6d4b\u8bd5 image (1).txt"
    r = client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/plain",
                          Metadata={"x-cos-meta-origin": "sdk"})
    check(header(r, "ETag").strip('"') == hashlib.md5(body).hexdigest(), "PUT ETag is the MD5")
    proved("put_object stores a non-ASCII key and answers ETag = MD5")

    r = client.get_object(Bucket=bucket, Key=key)
    got = r["Body"].get_raw_stream().read()
    check(got == body, "GET returns the bytes that were PUT")
    check(header(r, "Content-Type") == "text/plain", "GET returns the content type")
    check(header(r, "x-cos-meta-origin") == "sdk", "GET returns x-cos-meta-*")
    proved("get_object returns the same bytes, Content-Type and x-cos-meta-*")

    r = client.get_object(Bucket=bucket, Key=key, Range="bytes=6-9")
    check(r["Body"].get_raw_stream().read() == body[6:10], "ranged GET")
    proved("get_object with Range returns exactly the requested bytes")

    r = client.head_object(Bucket=bucket, Key=key)
    check(int(header(r, "Content-Length")) == len(body), "HEAD Content-Length")
    proved("head_object reports the size")

    # Put with Content-MD5 (EnableMD5) and a bad Content-MD5.
    r = client.put_object(Bucket=bucket, Key="interop/sdk/md5.txt", Body=b"md5 checked", EnableMD5=True)
    proved("put_object with Content-MD5 (EnableMD5=True) is accepted")
    expect_error(lambda: client.put_object(Bucket=bucket, Key="interop/sdk/bad-md5.txt", Body=b"x",
                                           ContentMD5="AAAAAAAAAAAAAAAAAAAAAA=="),
                 400, "BadDigest", "PUT with a wrong Content-MD5")
    expect_error(lambda: client.head_object(Bucket=bucket, Key="interop/sdk/bad-md5.txt"),
                 404, None, "HEAD of the refused object")
    proved("a wrong Content-MD5 is refused with 400 BadDigest and nothing is stored")

    # LIST with prefix, delimiter and pagination.
    for i in range(5):
        client.put_object(Bucket=bucket, Key="interop/list/f%d.txt" % i, Body=b"%d" % i)
    client.put_object(Bucket=bucket, Key="interop/list/sub/a.txt", Body=b"a")
    r = client.list_objects(Bucket=bucket, Prefix="interop/list/", Delimiter="/")
    keys = [c["Key"] for c in r.get("Contents", [])]
    prefixes = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
    check(keys == ["interop/list/f%d.txt" % i for i in range(5)], "list keys: %r" % keys)
    check(prefixes == ["interop/list/sub/"], "list common prefixes: %r" % prefixes)
    proved("list_objects with Prefix and Delimiter returns Contents and CommonPrefixes")

    seen, marker = [], ""
    while True:
        r = client.list_objects(Bucket=bucket, Prefix="interop/list/", MaxKeys=2, Marker=marker)
        seen += [c["Key"] for c in r.get("Contents", [])]
        if r["IsTruncated"] != "true":
            break
        marker = r["NextMarker"]
    check(len(seen) == 6 and seen == sorted(seen), "paged listing: %r" % seen)
    proved("list_objects pages with MaxKeys, IsTruncated and NextMarker")

    # Multipart upload of a 30 MiB file (1 MiB parts) via upload_file.
    big = os.path.join(args.workdir, "big-30MiB.bin")
    with open(big, "wb") as f:
        block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
        for i in range(30):
            f.write(bytes([i]) + block[1:])
    with open(big, "rb") as f:
        want = hashlib.sha1(f.read()).hexdigest()
    r = client.upload_file(Bucket=bucket, Key="interop/big/30MiB.bin", LocalFilePath=big,
                           PartSize=1, MAXThread=4, EnableMD5=False)
    etag = header(r, "ETag").strip('"')
    check(etag.endswith("-30"), "multipart ETag %s ends with -30 (30 parts)" % etag)
    r = client.head_object(Bucket=bucket, Key="interop/big/30MiB.bin")
    check(int(header(r, "Content-Length")) == 30 * 1024 * 1024, "multipart object size")
    r = client.get_object(Bucket=bucket, Key="interop/big/30MiB.bin")
    h = hashlib.sha1()
    stream = r["Body"].get_raw_stream()
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
    check(h.hexdigest() == want, "multipart object content")
    proved("upload_file of a 30 MiB file uses multipart (30 x 1 MiB parts, ETag %s) and reads back identical" % etag)

    # Multipart by hand: list parts, abort.
    r = client.create_multipart_upload(Bucket=bucket, Key="interop/big/aborted.bin")
    upload_id = r["UploadId"]
    client.upload_part(Bucket=bucket, Key="interop/big/aborted.bin", Body=b"p" * 1024,
                       PartNumber=1, UploadId=upload_id)
    r = client.list_parts(Bucket=bucket, Key="interop/big/aborted.bin", UploadId=upload_id)
    check(len(r["Part"]) == 1 and r["Part"][0]["Size"] == "1024", "list_parts: %r" % r.get("Part"))
    r = client.list_multipart_uploads(Bucket=bucket, Prefix="interop/big/")
    check(any(u["UploadId"] == upload_id for u in r.get("Upload", [])), "list_multipart_uploads")
    client.abort_multipart_upload(Bucket=bucket, Key="interop/big/aborted.bin", UploadId=upload_id)
    expect_error(lambda: client.list_parts(Bucket=bucket, Key="interop/big/aborted.bin", UploadId=upload_id),
                 404, "NoSuchUpload", "list_parts after abort")
    expect_error(lambda: client.head_object(Bucket=bucket, Key="interop/big/aborted.bin"),
                 404, None, "HEAD of an aborted upload")
    proved("create_multipart_upload / upload_part / list_parts / list_multipart_uploads / abort work; aborted uploads leave no object")

    # Presigned GET.
    url = client.get_presigned_url(Bucket=bucket, Key="interop/sdk/md5.txt", Method="GET", Expired=300)
    resp = requests.get(url)
    check(resp.status_code == 200 and resp.content == b"md5 checked", "presigned GET: %d" % resp.status_code)
    proved("a presigned URL (q-* query parameters) downloads the object")

    # DELETE.
    client.delete_object(Bucket=bucket, Key=key)
    expect_error(lambda: client.head_object(Bucket=bucket, Key=key),
                 404, None, "HEAD after delete")
    client.delete_object(Bucket=bucket, Key=key)  # deleting an absent key is not an error, like COS
    proved("delete_object removes the object; deleting again still answers 204")

    # A wrong secret is refused and writes nothing.
    bad = CosS3Client(CosConfig(Region="ap-local", SecretId=sid, SecretKey=skey + "x",
                                Domain=args.endpoint, Scheme="http"), retry=0)
    expect_error(lambda: bad.put_object(Bucket=bucket, Key="interop/sdk/forged.txt", Body=b"x"),
                 403, "SignatureDoesNotMatch", "PUT with a wrong secret")
    expect_error(lambda: client.head_object(Bucket=bucket, Key="interop/sdk/forged.txt"),
                 404, None, "HEAD of the forged object")
    proved("a request signed with a wrong secret answers 403 SignatureDoesNotMatch and stores nothing")

    # Virtual-host addressing: <bucket>-<appid>.<endpoint> names the bucket. The
    # store listens on 127.0.0.1, so the SDK reaches it through an HTTP proxy
    # setting that points at the store (the Host header keeps the bucket name).
    other = "photos-%s" % args.appid
    vconf = CosConfig(Region="ap-local", SecretId=sid, SecretKey=skey, Endpoint="cos.local",
                      Scheme="http", Proxies={"http": "http://%s" % args.endpoint})
    vclient = CosS3Client(vconf, retry=0)
    vclient.put_object(Bucket=other, Key="vhost.txt", Body=b"virtual host")
    r = vclient.list_objects(Bucket=other)
    check([c["Key"] for c in r.get("Contents", [])] == ["vhost.txt"], "virtual-host bucket listing")
    r = client.list_objects(Bucket=bucket, Prefix="vhost.txt")
    check(not r.get("Contents"), "the default bucket does not see the other bucket's key")
    proved("virtual-host requests (Host: photos-%s.cos.local) address their own bucket" % args.appid)

    print("ALL SDK CHECKS PASSED", flush=True)


if __name__ == "__main__":
    main()
