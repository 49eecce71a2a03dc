-- Contact lists and the activities that act on them (the library seed, 001),
-- as in migrations/sqlite/0002_lists.sql. List ids are taken under a
-- transaction-scoped advisory lock on the tenant.

-- List ids count per tenant from 1, as the library dialect's clients expect.
CREATE TABLE lists (
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    id          BIGINT NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

-- Addresses are stored normalized (trimmed, lower-case).
CREATE TABLE list_members (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    list_id     BIGINT NOT NULL,
    email       TEXT COLLATE "C" NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, list_id, email),
    FOREIGN KEY (tenant_id, list_id) REFERENCES lists(tenant_id, id)
);
CREATE INDEX list_members_by_email ON list_members (tenant_id, email);

CREATE TABLE activities (
    id               TEXT COLLATE "C" PRIMARY KEY,
    tenant_id        TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    -- JSON array of list ids.
    lists            TEXT NOT NULL,
    file_id          TEXT,
    file_name        TEXT,
    contact_count    BIGINT NOT NULL,
    removed_count    BIGINT NOT NULL,
    not_found_count  BIGINT NOT NULL,
    error_count      BIGINT NOT NULL,
    -- JSON array of {line, message, value}.
    errors           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX activities_by_tenant ON activities (tenant_id, created_at);
