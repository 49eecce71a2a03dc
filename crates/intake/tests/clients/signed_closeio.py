"""The 002 seed's Python sample (signed direct upload), with the vendor's
client library (closeio_api) and requests, unchanged but for the base URL
(scheme, host and port), the API key and the file.

    python3 signed_closeio.py BASE_URL API_KEY FILE [options]

BASE_URL is the server's root (http://127.0.0.1:8080); the library's
`/api/v1/` is appended as its own base URL ends. Options: --filename and
--content-type (what files/upload is told; the seed's image.jpg and
image/jpeg by default), --omit FIELD (leave filename or content_type out),
--sleep S (wait between files/upload and the S3 POST), --download-wait S
(how long to retry the download URL while the file is processed).

Prints one JSON object: the files/upload answer ("upload", "download") or
its error ("error_status", "error_body"), the download URL's status before
the upload ("before"), the S3 POST's status and body ("s3_status",
"s3_body"), and the download afterwards ("after", "after_sha256").
"""

import argparse
import hashlib
import json
import time

import requests
from closeio_api import APIError, Client

args = argparse.ArgumentParser()
args.add_argument("base")
args.add_argument("api_key")
args.add_argument("file")
args.add_argument("--filename", default="image.jpg")
args.add_argument("--content-type", default="image/jpeg")
args.add_argument("--omit", action="append", default=[])
args.add_argument("--sleep", type=float, default=0)
args.add_argument("--download-wait", type=float, default=30)
opts = args.parse_args()
out = {}

api = Client(opts.api_key, max_retries=1)
# Only the scheme, host and port change: the library's own base URL ends in /api/v1/.
api.base_url = opts.base.rstrip("/") + "/api/v1/"

body = {"filename": opts.filename, "content_type": opts.content_type}
for omitted in opts.omit:
    body.pop(omitted, None)
try:
    files_upload_response = api.post("files/upload", body)
except APIError as e:
    out.update(error_status=e.response.status_code, error_body=e.response.json())
    print(json.dumps(out))
    raise SystemExit(0)
out.update(upload=files_upload_response["upload"], download=files_upload_response["download"])

# Using the file before the S3 upload request has been made fails.
before = requests.get(files_upload_response["download"]["url"])
out.update(before=before.status_code, before_body=before.text)

time.sleep(opts.sleep)
# Use the data in the response to construct a multipart/form-data POST request
s3_upload_response = requests.post(
    files_upload_response["upload"]["url"],
    data=files_upload_response["upload"]["fields"],
    files={
        "file": (opts.filename, open(opts.file, "rb"), opts.content_type)
    }
)
out.update(s3_status=s3_upload_response.status_code, s3_body=s3_upload_response.text)

if s3_upload_response.status_code == 201:
    deadline = time.time() + opts.download_wait
    while True:
        after = requests.get(files_upload_response["download"]["url"])
        if after.status_code == 200 or time.time() > deadline:
            break
        time.sleep(0.2)
    out.update(after=after.status_code)
    if after.status_code == 200:
        out.update(after_sha256=hashlib.sha256(after.content).hexdigest())
    else:
        out.update(after_body=after.text)
print(json.dumps(out))
