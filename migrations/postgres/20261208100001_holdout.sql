-- The holdout group: BPU participants who get no reminder of the rules [holdout] names, so the
-- reminders' effect can be measured against them. The scan rewrites it from a hash of each NIK and
-- the configured salt, per kelurahan; empty when the holdout is off. Their reminders of those rules
-- are recorded as skipped with reason 'holdout'.
CREATE TABLE holdout_members (
    participant_id  BIGINT PRIMARY KEY REFERENCES participants (id),
    kelurahan_code  TEXT NOT NULL,
    assigned_at     BIGINT NOT NULL
);
