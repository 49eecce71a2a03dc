"""A direct upload to the S3 bucket behind intake (Garage in the tests), the
way a Python client would write it with requests and boto3.

    python3 garage_direct.py INTAKE_URL TOKEN PROJECT FILE [--boto3-form] [--content-type T] [--meta NAME=VALUE]

Asks intake (whose store is S3) for an upload intent, POSTs a multipart form
straight to the bucket with requests, completes the upload with intake, and
downloads the file through the intent's download URL (which redirects to a
presigned GET of the bucket; requests follows it).

The form is the intent's own, or with --boto3-form one made by boto3's
generate_presigned_post with the bucket's key (INTAKE_TEST_S3_ENDPOINT,
_REGION, _BUCKET, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY) for the same object and
the same conditions: the intent's key prefix (as `${filename}`), the
Content-Type and x-amz-meta-* fields, success_action_status and the
content-length-range up to the intent's max_size.

Prints one JSON object: the intent, the form used, both policies' conditions,
the answers' statuses, the completed file, and the download's status, final
URL, headers and SHA-256.
"""

import argparse
import base64
import hashlib
import json
import os

import requests

args = argparse.ArgumentParser()
args.add_argument("intake")
args.add_argument("token")
args.add_argument("project")
args.add_argument("file")
args.add_argument("--boto3-form", action="store_true")
args.add_argument("--content-type")
args.add_argument("--meta", action="append", default=[])
opts = args.parse_args()

auth = {"Authorization": "Bearer " + opts.token}
filename = os.path.basename(opts.file)
request = {"filename": filename, "metadata": dict(m.split("=", 1) for m in opts.meta)}
if opts.content_type:
    request["content_type"] = opts.content_type
intent = requests.post(
    f"{opts.intake}/v1/projects/{opts.project}/upload-intents", json=request, headers=auth
)
intent.raise_for_status()
intent = intent.json()


def conditions(fields):
    return json.loads(base64.b64decode(fields["policy"]))["conditions"]


out = {"intent": intent, "intent_conditions": conditions(intent["fields"])}
url, fields = intent["url"], intent["fields"]
if opts.boto3_form:
    import boto3
    from botocore.config import Config

    env = os.environ
    s3 = boto3.client(
        "s3",
        endpoint_url=env["INTAKE_TEST_S3_ENDPOINT"],
        aws_access_key_id=env["INTAKE_TEST_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["INTAKE_TEST_S3_SECRET_ACCESS_KEY"],
        region_name=env["INTAKE_TEST_S3_REGION"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    prefix = intent["fields"]["key"].rsplit("/", 1)[0] + "/"
    extra = {
        k: v
        for k, v in intent["fields"].items()
        if k == "Content-Type" or k.startswith("x-amz-meta-") or k == "success_action_status"
    }
    post = s3.generate_presigned_post(
        env["INTAKE_TEST_S3_BUCKET"],
        prefix + "${filename}",
        Fields=extra,
        Conditions=[{k: v} for k, v in extra.items()]
        + [["content-length-range", 0, intent["max_size"]]],
        ExpiresIn=60,
    )
    url, fields = post["url"], post["fields"]
    out["boto3_conditions"] = conditions(fields)
out["form"] = {"url": url, "fields": fields}

with open(opts.file, "rb") as f:
    data = f.read()
# What a browser sends: the fields, then the file part, as multipart/form-data.
upload = requests.post(
    url,
    data=fields,
    files={"file": (filename, data, opts.content_type or "application/octet-stream")},
)
out["upload"] = {"status": upload.status_code, "body": upload.text}

complete = requests.post(
    f"{opts.intake}/v1/upload-intents/{intent['id']}/complete", headers=auth
)
out["complete"] = {"status": complete.status_code, "body": complete.json()}

# Processing first: the download URL serves a ready file.
requests.get(f"{opts.intake}/v1/files/{intent['file_id']}?wait=30s", headers=auth)
download = requests.get(intent["download_url"])
out["download"] = {
    "status": download.status_code,
    "url": download.url,
    "redirects": [r.status_code for r in download.history],
    "headers": dict(download.headers),
    "sha256": hashlib.sha256(download.content).hexdigest(),
    "size": len(download.content),
}
print(json.dumps(out))
