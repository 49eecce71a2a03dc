-- Timestamps are milliseconds since the Unix epoch (UTC). JSON columns hold
-- serde_json text. Ids are prefixed random strings made by intake-core.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    policy      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, slug)
);

-- Folder ids count per project from 1; 0 is the root and has no row.
CREATE TABLE folders (
    project_id  TEXT NOT NULL REFERENCES projects(id),
    id          INTEGER NOT NULL,
    parent_id   INTEGER NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, id),
    UNIQUE (project_id, parent_id, name)
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    -- SHA-256 of the whole token: keys are random, so a fast hash is safe
    -- and lets a request find its key with one indexed lookup.
    token_hash  TEXT NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    projects    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    projects       TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, username)
);
CREATE INDEX users_by_name ON users (username);

CREATE TABLE uploads (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    project_id  TEXT NOT NULL REFERENCES projects(id),
    name        TEXT,
    metadata    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Identical bytes are stored once per tenant; files count their references.
CREATE TABLE blobs (
    tenant_id   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    size        INTEGER NOT NULL,
    refs        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);

CREATE TABLE files (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants(id),
    project_id             TEXT NOT NULL REFERENCES projects(id),
    folder_id              INTEGER NOT NULL,
    upload_id              TEXT NOT NULL REFERENCES uploads(id),
    name                   TEXT NOT NULL,
    original_filename      TEXT,
    size                   INTEGER NOT NULL,
    sha256                 TEXT NOT NULL,
    detected_format        TEXT NOT NULL,
    declared_content_type  TEXT,
    metadata               TEXT NOT NULL,
    status                 TEXT NOT NULL,
    reason                 TEXT,
    blob_key               TEXT NOT NULL,
    document_class         TEXT,
    external_id            TEXT,
    -- What inspection found (JSON), once it has run.
    properties             TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    expires_at             INTEGER
);
CREATE INDEX files_listing ON files (project_id, created_at DESC, id DESC);
CREATE INDEX files_by_hash ON files (project_id, sha256);
CREATE INDEX files_by_upload ON files (upload_id);
CREATE INDEX files_by_blob ON files (blob_key);
CREATE UNIQUE INDEX files_by_external_id ON files (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX files_expiring ON files (expires_at) WHERE expires_at IS NOT NULL AND status <> 'expired';

-- One row per processing step of a file.
CREATE TABLE tasks (
    file_id      TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    state        TEXT NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    result       TEXT,
    error        TEXT,
    PRIMARY KEY (file_id, name)
);

-- The durable job queue (outbox): rows are written in the same transaction
-- as what they act on. Workers claim with a lease; an expired lease makes
-- the job claimable again. Finished jobs are deleted; jobs that used every
-- attempt stay as 'failed' for inspection.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    run_at        INTEGER NOT NULL,
    lease_owner   TEXT,
    lease_until   INTEGER,
    last_error    TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    project_id  TEXT NOT NULL REFERENCES projects(id),
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_by_project ON webhooks (project_id);

CREATE TABLE deliveries (
    id             TEXT PRIMARY KEY,
    webhook_id     TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event          TEXT NOT NULL,
    payload        TEXT NOT NULL,
    state          TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    last_status    INTEGER,
    last_response  TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at DESC);
