"""The 000 seed's Python sample (mailing documents), unchanged but for the
URL, the credentials and the file, which come from the command line.

    python3 mailing_upload.py URL USER PASSWORD FILE [options]

The options vary the request for the error table's rows (the seed's own
values are the defaults): --format, --name, --class, --part-name (the
'file.pdf' placeholder whose extension must match the format), --omit FIELD
(leave a parameter out, 'file' included).

Prints the status code, then the body; WWW-Authenticate (if any) goes to
stderr.
"""

import argparse
import sys

# Load the HTTP requests and encoder modules
import requests
from requests_toolbelt.multipart.encoder import MultipartEncoder

args = argparse.ArgumentParser()
args.add_argument("url")
args.add_argument("user")
args.add_argument("password")
args.add_argument("file")
args.add_argument("--format", default="PDF")
args.add_argument("--name", default="Test Letter PDF")
args.add_argument("--class", dest="document_class", default="Letter 8.5 x 11")
args.add_argument("--part-name", default="file.pdf")
args.add_argument("--content-type", default="application/pdf")
args.add_argument("--omit", action="append", default=[])
opts = args.parse_args()

# Define the endpoint to use
url = opts.url

# Define credentials
myusername = opts.user
mypassword = opts.password

# Define the local file to upload
fileName = opts.file

# Set up parameters for calling the endpoint
# The 'file.pdf' value in the 'file' value tuple
# is a placeholder whose file extension must
# match the document type, but whose name does not matter
fields = {
    'documentFormat': opts.format,
    'documentName': opts.name,
    'documentClass': opts.document_class,
    'file': (opts.part_name, open(fileName, 'rb'), opts.content_type)
}
for omitted in opts.omit:
    fields.pop(omitted, None)
mp_encoder = MultipartEncoder(fields=fields)
headers = {'user-agent': 'my-app/0.0.1', 'Content-Type': mp_encoder.content_type}

# Make the POST call
r = requests.post(url, auth=(myusername, mypassword), headers=headers, data=mp_encoder)

# Display the result - a success should return status_code 201
print(r.status_code)

# Display the full XML returned.
print(r.text)

if 'WWW-Authenticate' in r.headers:
    print(r.headers['WWW-Authenticate'], file=sys.stderr)
