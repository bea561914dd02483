"""Upload a directory to a cos-local store with Tencent's coscmd, then verify it
with cos-python-sdk-v5.

Usage: python coscmd_upload.py --endpoint 127.0.0.1:PORT --appid APPID --bucket SHORT --workdir DIR
with COS_SECRET_ID / COS_SECRET_KEY in the environment.

coscmd builds URLs as <bucket>.<endpoint>; the endpoint is the placeholder
domain cos.local and HTTP_PROXY points at the store, so requests reach
127.0.0.1 with the bucket in the Host header, as on real COS.
"""

import argparse
import hashlib
import os
import subprocess
import sys

from qcloud_cos import CosConfig, CosS3Client


def proved(msg):
    print("PROVED: " + msg, flush=True)


def fail(msg):
    print("FAILED: " + msg, flush=True)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--appid", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    sid = os.environ["COS_SECRET_ID"]
    skey = os.environ["COS_SECRET_KEY"]
    bucket = "%s-%s" % (args.bucket, args.appid)

    src = os.path.join(args.workdir, "coscmd-src")
    files = {
        "a.txt": b"alpha\n",
        "b.jpg": bytes(range(256)) * 40,
        "nested/c.png": os.urandom(12345),
        "nested/deeper/d.bin": os.urandom(21 * 1024 * 1024 + 17),  # above the 20 MiB threshold: multipart
        "\u56fe\u7247/e f.txt": b"non-ascii directory and a space\n",
    }
    for rel, data in files.items():
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    conf_path = os.path.join(args.workdir, "coscmd.conf")
    with open(conf_path, "w") as f:
        f.write("[common]\n")
        f.write("secret_id = %s\nsecret_key = %s\n" % (sid, skey))
        f.write("bucket = %s\nregion = ap-local\nendpoint = cos.local\nschema = http\n" % bucket)
        f.write("max_thread = 4\npart_size = 1\nmultiupload_threshold = 20\nretry = 0\ntimeout = 60\n")

    coscmd = os.environ.get("COS_INTEROP_COSCMD") or os.path.join(os.path.dirname(sys.executable), "coscmd")
    env = dict(os.environ)
    env["HTTP_PROXY"] = env["http_proxy"] = "http://%s" % args.endpoint
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    proc = subprocess.run([coscmd, "-c", conf_path, "upload", "-r", src + "/", "coscmd/"],
                          env=env, capture_output=True, text=True, timeout=300)
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    if proc.returncode != 0:
        fail("coscmd exited with %d" % proc.returncode)
    if "0 files failed" not in (proc.stdout + proc.stderr):
        fail("coscmd reported failures")

    client = CosS3Client(CosConfig(Region="ap-local", SecretId=sid, SecretKey=skey,
                                   Domain=args.endpoint, Scheme="http"), retry=0)
    r = client.list_objects(Bucket=bucket, Prefix="coscmd/")
    listed = {c["Key"]: int(c["Size"]) for c in r.get("Contents", [])}
    want = {"coscmd/" + k: len(v) for k, v in files.items()}
    if listed != want:
        fail("listing after coscmd upload: %r, expected %r" % (listed, want))
    for rel, data in files.items():
        got = client.get_object(Bucket=bucket, Key="coscmd/" + rel)["Body"].get_raw_stream().read()
        if hashlib.sha1(got).digest() != hashlib.sha1(data).digest():
            fail("content of coscmd/%s differs" % rel)
    head = client.head_object(Bucket=bucket, Key="coscmd/nested/deeper/d.bin")
    etag = [v for k, v in head.items() if k.lower() == "etag"][0].strip('"')
    if not etag.endswith("-22"):
        fail("coscmd did not upload the 21 MiB file in 22 parts (ETag %s)" % etag)
    proved("coscmd upload -r stored %d files (a 21 MiB one as a 22-part multipart upload, non-ASCII names) with the right sizes and bytes"
           % len(files))
    print("ALL COSCMD CHECKS PASSED", flush=True)


if __name__ == "__main__":
    main()
