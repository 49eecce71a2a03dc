-- The PostgreSQL catalog: the same tables, keys and rules as the SQLite one
-- (migrations/sqlite/0001_init.sql), so both engines answer alike.
--
-- - Timestamps are milliseconds since the Unix epoch (UTC), as in SQLite: the
--   keyset cursors carry milliseconds, and records read back equal to what
--   was stored.
-- - JSON columns hold serde_json text, byte for byte what was written; nothing
--   queries inside them.
-- - Text that is compared or ordered (ids, slugs, names, addresses) uses the
--   "C" collation: byte order, like SQLite, whatever the cluster's locale, so
--   listings and cursors agree between engines.
-- - Integers are BIGINT throughout (the engine reads them as i64).

CREATE TABLE tenants (
    id          TEXT COLLATE "C" PRIMARY KEY,
    slug        TEXT COLLATE "C" NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE projects (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    slug        TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL,
    policy      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);

-- Folder ids count per project from 1; 0 is the root and has no row. New ids
-- are taken under a transaction-scoped advisory lock on the project.
CREATE TABLE folders (
    project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects(id),
    id          BIGINT NOT NULL,
    parent_id   BIGINT NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, id),
    UNIQUE (project_id, parent_id, name)
);

CREATE TABLE api_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    -- SHA-256 of the whole token: keys are random, so a fast hash is safe
    -- and lets a request find its key with one indexed lookup.
    token_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    projects    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE users (
    id             TEXT COLLATE "C" PRIMARY KEY,
    tenant_id      TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    username       TEXT COLLATE "C" NOT NULL,
    password_hash  TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    projects       TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (tenant_id, username)
);
CREATE INDEX users_by_name ON users (username);

CREATE TABLE uploads (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects(id),
    name        TEXT,
    metadata    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX uploads_by_project ON uploads (project_id);

-- Identical bytes are stored once per tenant; files count their references.
-- Commits of the same bytes are serialized by an advisory lock on
-- (tenant, sha256), which also makes the duplicate rule atomic.
CREATE TABLE blobs (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    sha256      TEXT COLLATE "C" NOT NULL,
    key         TEXT COLLATE "C" NOT NULL UNIQUE,
    size        BIGINT NOT NULL,
    refs        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);

CREATE TABLE files (
    id                     TEXT COLLATE "C" PRIMARY KEY,
    tenant_id              TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    project_id             TEXT COLLATE "C" NOT NULL REFERENCES projects(id),
    folder_id              BIGINT NOT NULL,
    upload_id              TEXT COLLATE "C" NOT NULL REFERENCES uploads(id),
    name                   TEXT COLLATE "C" NOT NULL,
    original_filename      TEXT,
    size                   BIGINT NOT NULL,
    sha256                 TEXT COLLATE "C" NOT NULL,
    detected_format        TEXT NOT NULL,
    declared_content_type  TEXT,
    metadata               TEXT NOT NULL,
    status                 TEXT NOT NULL,
    reason                 TEXT,
    blob_key               TEXT COLLATE "C" NOT NULL,
    document_class         TEXT,
    external_id            TEXT COLLATE "C",
    -- What inspection found (JSON), once it has run.
    properties             TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    expires_at             BIGINT
);
CREATE INDEX files_listing ON files (project_id, created_at DESC, id DESC);
-- Listings across a tenant's projects (SQLite makes do without).
CREATE INDEX files_tenant_listing ON files (tenant_id, created_at DESC, id DESC);
CREATE INDEX files_by_hash ON files (project_id, sha256);
CREATE INDEX files_by_upload ON files (upload_id);
CREATE INDEX files_by_blob ON files (blob_key);
CREATE UNIQUE INDEX files_by_external_id ON files (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX files_expiring ON files (expires_at) WHERE expires_at IS NOT NULL AND status <> 'expired';

-- One row per processing step of a file.
CREATE TABLE tasks (
    file_id      TEXT COLLATE "C" NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    state        TEXT NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    result       TEXT,
    error        TEXT,
    PRIMARY KEY (file_id, name)
);

-- The durable job queue (outbox): rows are written in the same transaction
-- as what they act on. Workers claim with FOR UPDATE SKIP LOCKED and a
-- lease; an expired lease makes the job claimable again. Leases are timed by
-- the database's clock, so the nodes' clocks need not agree for one node to
-- take over a dead node's jobs no sooner than its lease ran out. Finished
-- jobs are deleted; jobs that used every attempt stay as 'failed'.
CREATE TABLE jobs (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    run_at        BIGINT NOT NULL,
    lease_owner   TEXT,
    lease_until   BIGINT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX jobs_queued ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';

CREATE TABLE webhooks (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects(id),
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX webhooks_by_project ON webhooks (project_id);

CREATE TABLE deliveries (
    id             TEXT COLLATE "C" PRIMARY KEY,
    webhook_id     TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event          TEXT NOT NULL,
    payload        TEXT NOT NULL,
    state          TEXT NOT NULL,
    attempts       BIGINT NOT NULL,
    last_status    BIGINT,
    last_response  TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at DESC);
