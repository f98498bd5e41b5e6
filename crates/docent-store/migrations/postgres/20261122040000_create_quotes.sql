-- GENERATE_QUOTE in engine mode: computed quotes, numbered per tenant and year (Q-2026-0001)
-- by a counter row updated in the same transaction as the insert, so numbers are gap-free and
-- never collide, whichever replica writes.

CREATE TABLE quote_counters (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    year        BIGINT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE quotes (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
    visitor_id      TEXT REFERENCES visitors (id) ON DELETE CASCADE,
    tool_id         TEXT REFERENCES tools (id) ON DELETE SET NULL,
    number          TEXT NOT NULL,
    customer_name   TEXT NOT NULL,
    customer_email  TEXT NOT NULL,
    lines           TEXT NOT NULL,
    subtotal        BIGINT NOT NULL,
    discount        BIGINT NOT NULL,
    vat             BIGINT,
    total           BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX quotes_tenant ON quotes (tenant_id, created_at);
