-- Raw chunks whose unique index has been rebuilt once the chunk closed. Rows arrive in time
-- order for every monitor at once, so each monitor's part of the index is appended to in
-- the middle and its pages split about two-thirds full (42 bytes of index a row); rebuilt,
-- the closed chunk's index is packed 90 % full (32 bytes a row): about 110 -> 100 bytes a
-- row with the heap (see docs/operations.md "Storage layout").
CREATE TABLE packed_chunks (
    chunk      text PRIMARY KEY,          -- schema-qualified chunk table name
    packed_at  timestamptz NOT NULL DEFAULT now(),
    index_bytes_before bigint NOT NULL,
    index_bytes_after  bigint NOT NULL
);
