-- A daily rollup cell may be split over rows (`shard`), which queries add up (the schema is the
-- same on both backends; SQLite's one writer has no row locks to spread, so it writes shard 0
-- only: see `ROLLUP_SHARDS`). SQLite cannot change a primary key in place: the table is copied.
CREATE TABLE analytics_daily_sharded (
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
    shard           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, channel, segment_id, visitor_type, shard)
);
INSERT INTO analytics_daily_sharded (tenant_id, day, channel, segment_id, visitor_type, conversations, messages,
    escalated, with_tool_calls, tool_calls, positive, negative)
SELECT tenant_id, day, channel, segment_id, visitor_type, conversations, messages, escalated, with_tool_calls,
    tool_calls, positive, negative
FROM analytics_daily;
DROP TABLE analytics_daily;
ALTER TABLE analytics_daily_sharded RENAME TO analytics_daily;
