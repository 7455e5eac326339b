-- A late "undelivered" receipt moves the credit of the payments its reminder had.

-- The attribution window a payment was recorded under, in seconds: when its credit moves later,
-- it moves within this window. Payments recorded before this column existed take the default
-- window, 14 days.
ALTER TABLE payments ADD COLUMN attribution_secs INTEGER NOT NULL DEFAULT 1209600;

-- Every move of a payment's credit after it was recorded (the credit itself is payments.reminder_id):
-- from which reminder, to which (NULL: none), why and when.
CREATE TABLE payment_credit_changes (
    id                INTEGER PRIMARY KEY,
    payment_id        INTEGER NOT NULL REFERENCES payments (id),
    from_reminder_id  INTEGER REFERENCES reminders (id),
    to_reminder_id    INTEGER REFERENCES reminders (id),
    reason            TEXT NOT NULL,
    at                INTEGER NOT NULL
);

CREATE INDEX payment_credit_changes_payment ON payment_credit_changes (payment_id);
