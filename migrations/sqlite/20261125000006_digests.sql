-- The weekly coordinator digest: one row per kelurahan and ISO week (of the
-- cron occurrence, in the digest time zone). The primary key is the claim:
-- an instance inserts the row as 'sending' under a lease before sending, so
-- a second instance, or a restarted one, finds it taken; 'sent' once the
-- SMTP relay accepted; 'failed' with a retry time otherwise. A 'sending' row
-- whose lease ran out (a crashed instance) may be claimed again.
-- Instants are Unix seconds (UTC).

CREATE TABLE digests (
    kelurahan_code   TEXT NOT NULL REFERENCES kelurahan (code),
    week             TEXT NOT NULL,             -- ISO week, '2025-W29'
    status           TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    scheduled_at     INTEGER NOT NULL,          -- the cron occurrence it answers
    attempts         INTEGER NOT NULL DEFAULT 1,
    claimed_by       TEXT,                      -- worker holding (or last holding) the claim
    lease_until      INTEGER,
    next_attempt_at  INTEGER,                   -- when a failed digest may be claimed again
    last_error       TEXT,
    bpu              INTEGER,                   -- BPU participants when sent
    active           INTEGER,                   -- active ones among them: the next digest's comparison
    behind           INTEGER,                   -- participants listed
    recipients       INTEGER,
    message_id       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    PRIMARY KEY (kelurahan_code, week)
);
