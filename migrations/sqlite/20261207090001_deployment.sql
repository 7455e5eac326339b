-- This database's deployment id: random, made once. Every SMS carries it in its idempotency key
-- (`pengingat-{deployment}-{reminder id}`), so two databases sending through one gateway account,
-- whose reminder ids both start at 1, never have a reminder dropped as the other's duplicate.
-- A restored backup keeps it, so a re-send after the restore is still recognised.
CREATE TABLE deployment (
    id          TEXT NOT NULL PRIMARY KEY,
    created_at  INTEGER NOT NULL
);

INSERT INTO deployment (id, created_at) VALUES (lower(hex(randomblob(8))), CAST(strftime('%s', 'now') AS INTEGER));
