-- A daily rollup cell may be split over rows (`shard`), which queries add up: every chat turn
-- updates its conversation's cell, and on PostgreSQL a turn holds that row's lock until it
-- commits, so one row per cell let only one turn of a busy day commit at a time. Turns spread
-- over the shards by their conversation's start (see `ROLLUP_SHARDS`).
ALTER TABLE analytics_daily ADD COLUMN shard BIGINT NOT NULL DEFAULT 0;
ALTER TABLE analytics_daily DROP CONSTRAINT analytics_daily_pkey;
ALTER TABLE analytics_daily ADD PRIMARY KEY (tenant_id, day, channel, segment_id, visitor_type, shard);
