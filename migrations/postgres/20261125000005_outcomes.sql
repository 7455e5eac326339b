-- Outcomes: each payment is attributed to the latest reminder sent to its participant within the
-- attribution window (that reminder converted), and files taken from the payments inbox are
-- remembered so that none is imported twice.

-- The reminder a payment is credited to, and whole days from its send to the payment.
ALTER TABLE payments ADD COLUMN reminder_id BIGINT REFERENCES reminders (id);
ALTER TABLE payments ADD COLUMN days_to_pay INTEGER;

CREATE INDEX payments_reminder ON payments (reminder_id) WHERE reminder_id IS NOT NULL;
CREATE INDEX payments_paid_at ON payments (paid_at);
CREATE INDEX reminders_sent ON reminders (sent_at) WHERE sent_at IS NOT NULL;

CREATE TABLE inbox_files (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE,        -- of the file's bytes: a renamed copy is still the same file
    file_name     TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('done', 'rejected')),
    row_count     BIGINT NOT NULL,
    detail        TEXT,                        -- why it was rejected
    processed_at  BIGINT NOT NULL
);
