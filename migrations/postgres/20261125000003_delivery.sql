-- Delivery: dispatcher leases, gateway message ids, encodings, delivery receipts, opt-out time.

-- A reminder being sent holds a lease; when it runs out (a crashed daemon) the reminder can be
-- claimed again.
ALTER TABLE reminders ADD COLUMN lease_until BIGINT;
ALTER TABLE reminders ADD COLUMN leased_by TEXT;
-- After a transient failure the reminder waits until this instant before the next attempt.
ALTER TABLE reminders ADD COLUMN next_attempt_at BIGINT;
-- Which gateway (or "smtp") accepted it, and the id it gave.
ALTER TABLE reminders ADD COLUMN gateway TEXT;
ALTER TABLE reminders ADD COLUMN provider_message_id TEXT;
-- SMS encoding ("gsm7" or "ucs2") and segments, as sent.
ALTER TABLE reminders ADD COLUMN encoding TEXT;
ALTER TABLE reminders ADD COLUMN segments INTEGER;
ALTER TABLE reminders ADD COLUMN sent_at BIGINT;
-- When it reached a final state (delivered, undelivered, failed, expired, unknown, ...).
ALTER TABLE reminders ADD COLUMN final_at BIGINT;

CREATE INDEX reminders_provider ON reminders (gateway, provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX reminders_leased ON reminders (lease_until) WHERE status = 'sending';
CREATE INDEX reminders_awaiting_receipt ON reminders (sent_at) WHERE status = 'sent';

-- Every delivery receipt as received (raw, for audit) and as understood.
CREATE TABLE receipts (
    id                   BIGSERIAL PRIMARY KEY,
    gateway              TEXT NOT NULL,
    provider_message_id  TEXT,
    -- Matched reminder; NULL while the send it belongs to is not recorded yet.
    reminder_id          BIGINT REFERENCES reminders (id),
    -- Normalised: accepted, sent, buffered, delivered, undelivered, expired, unknown.
    status               TEXT NOT NULL,
    raw                  TEXT NOT NULL,
    received_at          BIGINT NOT NULL,
    -- What it did: applied, ignored (a late or repeated status), waiting (no send yet).
    outcome              TEXT NOT NULL
);

CREATE INDEX receipts_waiting ON receipts (gateway, provider_message_id) WHERE reminder_id IS NULL;
CREATE INDEX receipts_reminder ON receipts (reminder_id);

ALTER TABLE participants ADD COLUMN opted_out_at BIGINT;
