-- Tenants, their tokens, segments, tools, visitors with memory, and the conversation rows the
-- management API counts. Timestamps are milliseconds since the Unix epoch (UTC); JSON is TEXT.

CREATE TABLE tenants (
    id                  TEXT PRIMARY KEY,
    slug                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    parent_id           TEXT REFERENCES tenants (id),
    plan                TEXT NOT NULL,
    is_activated        BOOLEAN NOT NULL,
    conversations_limit BIGINT,
    api_key_hash        TEXT NOT NULL UNIQUE,
    settings            TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX tenants_parent ON tenants (parent_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, created_at);

CREATE TABLE segments (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slug                  TEXT NOT NULL,
    name                  TEXT NOT NULL,
    system_prompt         TEXT NOT NULL,
    welcome_message       TEXT,
    conversation_starters TEXT NOT NULL,
    is_default            BOOLEAN NOT NULL,
    is_active             BOOLEAN NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);
CREATE UNIQUE INDEX segments_one_default ON segments (tenant_id) WHERE is_default;

CREATE TABLE tools (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    tool_type      TEXT NOT NULL,
    config         TEXT NOT NULL,
    position       BIGINT NOT NULL,
    is_active      BOOLEAN NOT NULL,
    segment_id     TEXT REFERENCES segments (id) ON DELETE SET NULL,
    webhook_url    TEXT,
    webhook_secret TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX tools_tenant ON tools (tenant_id, position);

CREATE TABLE visitors (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         TEXT,
    display_name  TEXT,
    phone         TEXT,
    auth_provider TEXT,
    external_id   TEXT,
    metadata      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX visitors_tenant ON visitors (tenant_id, created_at);
CREATE UNIQUE INDEX visitors_email ON visitors (tenant_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX visitors_external_id ON visitors (tenant_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE memory_facts (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (visitor_id, key)
);

CREATE TABLE conversations (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    public_id       TEXT NOT NULL UNIQUE,
    session_id      TEXT NOT NULL,
    visitor_id      TEXT REFERENCES visitors (id) ON DELETE CASCADE,
    segment_id      TEXT REFERENCES segments (id) ON DELETE SET NULL,
    channel         TEXT NOT NULL,
    visitor_type    TEXT NOT NULL,
    agent_model     TEXT,
    status          TEXT NOT NULL,
    page_url        TEXT,
    metadata        TEXT NOT NULL,
    message_count   BIGINT NOT NULL,
    started_at      BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL,
    UNIQUE (tenant_id, session_id)
);
CREATE INDEX conversations_tenant_started ON conversations (tenant_id, started_at);
CREATE INDEX conversations_visitor ON conversations (visitor_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
