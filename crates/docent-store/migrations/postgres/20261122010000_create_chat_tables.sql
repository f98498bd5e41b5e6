-- What chat turns leave: per-tenant model settings, tool executions, form submissions, and the
-- durable job queue (webhooks and emails delivered with retries, surviving restarts).

ALTER TABLE tenants ADD COLUMN llm TEXT NOT NULL DEFAULT '{}';

CREATE TABLE tool_executions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tool_name       TEXT NOT NULL,
    tool_type       TEXT NOT NULL,
    input           TEXT NOT NULL,
    result          TEXT NOT NULL,
    success         BOOLEAN NOT NULL,
    summary         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX tool_executions_conversation ON tool_executions (conversation_id, created_at);

CREATE TABLE submissions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    tool_id         TEXT REFERENCES tools (id) ON DELETE SET NULL,
    conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
    visitor_id      TEXT REFERENCES visitors (id) ON DELETE CASCADE,
    data            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX submissions_tenant ON submissions (tenant_id, created_at);

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, next_attempt_at);
