-- The corpus and the product catalog, and the per-tenant change sequence that search indexes
-- follow: every write bumps tenants.kb_version in the same transaction (serialising writers per
-- tenant, so versions commit in order) and records which item changed.

ALTER TABLE tenants ADD COLUMN kb_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE corpus_entries (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    segment_id TEXT REFERENCES segments (id) ON DELETE SET NULL,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    summary    TEXT,
    priority   BIGINT NOT NULL,
    tags       TEXT NOT NULL,
    entry_key  TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX corpus_entries_tenant ON corpus_entries (tenant_id, created_at, id);
CREATE UNIQUE INDEX corpus_entries_key ON corpus_entries (tenant_id, entry_key) WHERE entry_key IS NOT NULL;

CREATE TABLE products (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    price       BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    url         TEXT,
    image_url   TEXT,
    tags        TEXT NOT NULL,
    in_stock    BOOLEAN NOT NULL,
    attributes  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, sku)
);
CREATE INDEX products_tenant ON products (tenant_id, created_at, id);

CREATE TABLE kb_changes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version   BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    item_id   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
