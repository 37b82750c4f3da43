-- Weekly and four-weekly rollups: the same columns as rollup_1d, each row the merge of the
-- rolled days of its block (time_bucket('7 days') and time_bucket('28 days'): blocks start
-- on Mondays, every 28-day block is four whole weeks). A long window then reads a few
-- blocks instead of a row per day: a day of one monitor holds about 200 histogram entries,
-- and sending entries is what a long window's read costs (docs/analytics.md).
-- The aggregator rolls a block once its last day is rolled and rolls it again with that
-- day when late rows change it; rollup_state holds each width's watermark.
CREATE TABLE rollup_7d (LIKE rollup_1d INCLUDING ALL);
CREATE TABLE rollup_28d (LIKE rollup_1d INCLUDING ALL);
