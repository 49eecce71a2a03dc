-- Contact lists and the activities that act on them (the library seed, 001).
-- Plain SQL on purpose: the PostgreSQL engine can take it as it is.

-- List ids count per tenant from 1, as the library dialect's clients expect.
CREATE TABLE lists (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    id          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

-- Addresses are stored normalized (trimmed, lower-case).
CREATE TABLE list_members (
    tenant_id   TEXT NOT NULL,
    list_id     INTEGER NOT NULL,
    email       TEXT NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, list_id, email),
    FOREIGN KEY (tenant_id, list_id) REFERENCES lists(tenant_id, id)
);
CREATE INDEX list_members_by_email ON list_members (tenant_id, email);

CREATE TABLE activities (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    -- JSON array of list ids.
    lists            TEXT NOT NULL,
    file_id          TEXT,
    file_name        TEXT,
    contact_count    INTEGER NOT NULL,
    removed_count    INTEGER NOT NULL,
    not_found_count  INTEGER NOT NULL,
    error_count      INTEGER NOT NULL,
    -- JSON array of {line, message, value}.
    errors           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX activities_by_tenant ON activities (tenant_id, created_at);
