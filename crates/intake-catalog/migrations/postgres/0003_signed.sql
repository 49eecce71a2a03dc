-- Signed direct uploads, as in migrations/sqlite/0003_signed.sql.

-- S3 credentials of API keys. The secret is stored as it is, not hashed:
-- the server computes SigV4 signatures with it, as every S3 server does.
-- The credential carries its key's scopes and projects, and dies with it.
CREATE TABLE s3_credentials (
    access_key_id  TEXT COLLATE "C" PRIMARY KEY,
    tenant_id      TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    key_id         TEXT COLLATE "C" NOT NULL REFERENCES api_keys(id),
    secret         TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX s3_credentials_by_key ON s3_credentials (key_id);

-- Upload intents: a signed permission to POST one file (the form and the
-- download URL are signed with the intent's own secret; its id is the
-- access key id). `file_id` is the id the file will have; `uploaded_file_id`
-- the file the upload made (another one under `duplicates: reuse`).
CREATE TABLE upload_intents (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    tenant_id            TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    project_id           TEXT COLLATE "C" NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    credential_id        TEXT COLLATE "C" NOT NULL,
    file_id              TEXT COLLATE "C" NOT NULL UNIQUE,
    object_key           TEXT COLLATE "C" NOT NULL,
    filename             TEXT NOT NULL,
    content_type         TEXT,
    metadata             TEXT NOT NULL,
    max_size             BIGINT NOT NULL,
    secret               TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    upload_expires_at    BIGINT NOT NULL,
    download_expires_at  BIGINT NOT NULL,
    uploaded_file_id     TEXT COLLATE "C",
    uploaded_at          BIGINT
);
CREATE INDEX upload_intents_expiring ON upload_intents (download_expires_at);
CREATE INDEX upload_intents_by_project ON upload_intents (project_id);
