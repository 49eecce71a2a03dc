"""An S3 browser-POST form made by boto3's generate_presigned_post with an
intake S3 credential, and (with --upload) the upload itself with requests,
as any boto3 user would write it.

    python3 s3_presigned_post.py ENDPOINT ACCESS_KEY SECRET BUCKET KEY [options]

ENDPOINT is intake's S3 endpoint (http://host:port/s3). Options:
--sigv2 (boto3's default signature for a custom endpoint; s3v4 otherwise),
--content-type T (a field and an exact condition), --meta NAME=VALUE
(x-amz-meta-NAME, field and condition), --range MIN MAX
(content-length-range), --status S (success_action_status), --expires S,
--upload FILE (POST the form with FILE as the 'file' part), --policy-json
DOC (sign DOC as the policy instead, for malformed-policy tests).

Prints one JSON object: {"url", "fields"} and, with --upload,
{"status", "headers", "body"} of the answer.
"""

import argparse
import json

import boto3
import requests
from botocore.config import Config

args = argparse.ArgumentParser()
args.add_argument("endpoint")
args.add_argument("access_key")
args.add_argument("secret")
args.add_argument("bucket")
args.add_argument("key")
args.add_argument("--sigv2", action="store_true")
args.add_argument("--content-type")
args.add_argument("--meta", action="append", default=[])
args.add_argument("--range", nargs=2, type=int)
args.add_argument("--status")
args.add_argument("--expires", type=int, default=3600)
args.add_argument("--upload")
args.add_argument("--policy-json", help="replace the policy by this document, signed again (SigV4)")
opts = args.parse_args()

config = {"s3": {"addressing_style": "path"}}
if not opts.sigv2:
    config["signature_version"] = "s3v4"
s3 = boto3.client(
    "s3",
    endpoint_url=opts.endpoint,
    aws_access_key_id=opts.access_key,
    aws_secret_access_key=opts.secret,
    region_name="us-east-1",
    config=Config(**config),
)

fields = {}
conditions = []
if opts.content_type:
    fields["Content-Type"] = opts.content_type
    conditions.append({"Content-Type": opts.content_type})
for pair in opts.meta:
    name, value = pair.split("=", 1)
    fields["x-amz-meta-" + name] = value
    conditions.append({"x-amz-meta-" + name: value})
if opts.status:
    fields["success_action_status"] = opts.status
    conditions.append({"success_action_status": opts.status})
if opts.range:
    conditions.append(["content-length-range", opts.range[0], opts.range[1]])

post = s3.generate_presigned_post(
    opts.bucket, opts.key, Fields=fields, Conditions=conditions, ExpiresIn=opts.expires
)
if opts.policy_json is not None:
    # What a client with the secret could sign: any document, well-formed or not.
    import base64, hashlib, hmac

    def mac(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    date = post["fields"]["x-amz-credential"].split("/")[1]
    key = mac(mac(mac(mac(("AWS4" + opts.secret).encode(), date), "us-east-1"), "s3"), "aws4_request")
    policy = base64.b64encode(opts.policy_json.encode()).decode()
    post["fields"]["policy"] = policy
    post["fields"]["x-amz-signature"] = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
out = {"url": post["url"], "fields": post["fields"]}
if opts.upload:
    with open(opts.upload, "rb") as f:
        response = requests.post(
            post["url"],
            data=post["fields"],
            files={"file": (opts.upload.rsplit("/", 1)[-1], f, opts.content_type or "application/octet-stream")},
        )
    out.update(status=response.status_code, headers=dict(response.headers), body=response.text)
print(json.dumps(out))
