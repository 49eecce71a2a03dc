"""FastAPI peer for intake's benchmark: what many teams write themselves.

An endpoint taking an UploadFile (python-multipart spools it) and copying it
to a file in 1 MiB reads. Started by bench/bench.py as
`uvicorn app:app --workers 2 --loop uvloop --http httptools` with
BENCH_DATA_DIR set; TMPDIR points into the same directory so the spooled
temporary file lands on the same disk.
"""

import os
import uuid

from fastapi import FastAPI, UploadFile

DATA_DIR = os.environ.get("BENCH_DATA_DIR", "./fastapi-data")
os.makedirs(DATA_DIR, exist_ok=True)
app = FastAPI()


@app.post("/upload", status_code=201)
async def upload(file: UploadFile):
    path = os.path.join(DATA_DIR, uuid.uuid4().hex)
    size = 0
    with open(path, "wb") as out:
        while True:
            chunk = await file.read(1 << 20)
            if not chunk:
                break
            out.write(chunk)
            size += len(chunk)
    await file.close()
    return {"id": os.path.basename(path), "size": size}
