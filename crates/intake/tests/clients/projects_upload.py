"""The 004 seed's Python sample (`create_upload`), unchanged but for the
URL and the API key, which come from the command line:

    python3 projects_upload.py BASE_URL API_KEY PROJECT_ID FILE [NAME]

Prints the JSON answer on one line; on an HTTP error, prints the status and
body to stderr and exits 1 (raise_for_status, as in the sample).
"""

import json
import sys

import requests

BASE_URL, API_KEY, PROJECT_ID, FILE = sys.argv[1:5]
NAME = sys.argv[5] if len(sys.argv) > 5 else 'Important Document'


def create_upload(file_path, name, project_id, meta=None):
    url = BASE_URL + '/api/v1/uploads'
    headers = {
        'Authorization': 'Bearer ' + API_KEY
    }
    data = {
        'name': name,
        'projectId': project_id
    }
    files = {
        'file': open(file_path, 'rb')
    }
    if meta:
        data['meta'] = json.dumps(meta)
    response = requests.post(
        url,
        headers=headers,
        data=data,
        files=files
    )
    try:
        response.raise_for_status()  # Raise exception for 4XX/5XX responses
    except requests.HTTPError:
        print(response.status_code, response.text, file=sys.stderr)
        sys.exit(1)
    return response.json()


# Example usage
result = create_upload(
    file_path=FILE,
    name=NAME,
    project_id=PROJECT_ID,
    meta=[
        {'name': 'category', 'value': 'invoice'},
        {'name': 'department', 'value': 'finance'}
    ]
)
print(json.dumps(result))
