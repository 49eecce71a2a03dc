-- Signed direct uploads.

-- S3 credentials of API keys. The secret is stored as it is, not hashed:
-- the server computes SigV4 signatures with it, as every S3 server does.
-- The credential carries its key's scopes and projects, and dies with it.
CREATE TABLE s3_credentials (
    access_key_id  TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    key_id         TEXT NOT NULL REFERENCES api_keys(id),
    secret         TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX s3_credentials_by_key ON s3_credentials (key_id);

-- Upload intents: a signed permission to POST one file (the form and the
-- download URL are signed with the intent's own secret; its id is the
-- access key id). `file_id` is the id the file will have; `uploaded_file_id`
-- the file the upload made (another one under `duplicates: reuse`).
CREATE TABLE upload_intents (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    project_id           TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    credential_id        TEXT NOT NULL,
    file_id              TEXT NOT NULL UNIQUE,
    object_key           TEXT NOT NULL,
    filename             TEXT NOT NULL,
    content_type         TEXT,
    metadata             TEXT NOT NULL,
    max_size             INTEGER NOT NULL,
    secret               TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    upload_expires_at    INTEGER NOT NULL,
    download_expires_at  INTEGER NOT NULL,
    uploaded_file_id     TEXT,
    uploaded_at          INTEGER
);
CREATE INDEX upload_intents_expiring ON upload_intents (download_expires_at);
