"""Calls an STS endpoint with Tencent's official client, qcloud-python-sts.

The Rust test `credentials_official.rs` runs this against the fake STS with
the policy its server asked for, and checks that the fake saw the same
policy, DurationSeconds and a valid signature. Prints the client's result
(the backward-compatible dict: credentials.sessionToken, tmpSecretId, ...)
as JSON on stdout. The SecretId and SecretKey come from the environment
(STS_SECRET_ID, STS_SECRET_KEY).
"""
import argparse
import json
import os
import sys

from sts.sts import Sts


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True, help="e.g. http://127.0.0.1:9000/")
    p.add_argument("--domain", required=True, help="host[:port] the signature names")
    p.add_argument("--region", required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--policy", required=True, help="the policy JSON")
    args = p.parse_args()
    config = {
        "url": args.url,
        "domain": args.domain,
        "secret_id": os.environ["STS_SECRET_ID"],
        "secret_key": os.environ["STS_SECRET_KEY"],
        "duration_seconds": args.duration,
        "region": args.region,
        "policy": json.loads(args.policy),
    }
    result = Sts(config).get_credential()
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
