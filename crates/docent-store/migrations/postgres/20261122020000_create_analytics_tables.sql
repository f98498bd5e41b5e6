-- What owners read: per-conversation counters (so the list needs no join to messages), visitor
-- feedback per assistant message, and daily rollups per tenant maintained in the same
-- transaction as each turn, so stats and list totals stay fast at millions of conversations.
-- Rollup days are UTC midnights (epoch ms) of the conversations' start; `segment_id` is '' when
-- a conversation has no segment. Everything a conversation does counts on the day it started.

ALTER TABLE conversations ADD COLUMN first_message TEXT;
ALTER TABLE conversations ADD COLUMN intent_key TEXT;
ALTER TABLE conversations ADD COLUMN tool_calls BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN feedback_positive BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN feedback_negative BIGINT NOT NULL DEFAULT 0;

-- Newest first with a stable tie-break, for pages and keyset exports.
DROP INDEX conversations_tenant_started;
CREATE INDEX conversations_tenant_started ON conversations (tenant_id, started_at, id);
CREATE INDEX conversations_tenant_channel ON conversations (tenant_id, channel, started_at, id);
CREATE INDEX conversations_tenant_segment ON conversations (tenant_id, segment_id, started_at, id);
CREATE INDEX submissions_tenant_status ON submissions (tenant_id, status, created_at);

CREATE TABLE message_feedback (
    message_id      TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    rating          TEXT NOT NULL,
    comment         TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX message_feedback_conversation ON message_feedback (conversation_id);

CREATE TABLE analytics_daily (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day             BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    segment_id      TEXT NOT NULL,
    visitor_type    TEXT NOT NULL,
    conversations   BIGINT NOT NULL,
    messages        BIGINT NOT NULL,
    escalated       BIGINT NOT NULL,
    with_tool_calls BIGINT NOT NULL,
    tool_calls      BIGINT NOT NULL,
    positive        BIGINT NOT NULL,
    negative        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, channel, segment_id, visitor_type)
);

CREATE TABLE analytics_daily_tools (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day        BIGINT NOT NULL,
    channel    TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    tool_name  TEXT NOT NULL,
    calls      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, channel, segment_id, tool_name)
);

CREATE TABLE analytics_daily_pages (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day           BIGINT NOT NULL,
    channel       TEXT NOT NULL,
    segment_id    TEXT NOT NULL,
    page          TEXT NOT NULL,
    conversations BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, channel, segment_id, page)
);

CREATE TABLE analytics_daily_intents (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day           BIGINT NOT NULL,
    channel       TEXT NOT NULL,
    segment_id    TEXT NOT NULL,
    intent_key    TEXT NOT NULL,
    question      TEXT NOT NULL,
    conversations BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, channel, segment_id, intent_key)
);
