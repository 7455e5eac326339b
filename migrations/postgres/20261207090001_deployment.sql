-- This database's deployment id: random, made once. Every SMS carries it in its idempotency key
-- (`pengingat-{deployment}-{reminder id}`), so two databases sending through one gateway account,
-- whose reminder ids both start at 1, never have a reminder dropped as the other's duplicate.
-- A restored backup keeps it, so a re-send after the restore is still recognised.
CREATE TABLE deployment (
    id          TEXT NOT NULL PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

INSERT INTO deployment (id, created_at)
VALUES (substr(replace(gen_random_uuid()::text, '-', ''), 1, 16), extract(epoch FROM now())::BIGINT);
