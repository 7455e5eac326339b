-- Reminders: one row per participant x contribution month x rule x channel, and their history.

CREATE TABLE reminders (
    id                  INTEGER PRIMARY KEY,
    participant_id      INTEGER NOT NULL REFERENCES participants (id),
    kelurahan_code      TEXT NOT NULL,
    contribution_month  INTEGER NOT NULL,      -- the first unpaid month the rule was computed from
    rule                TEXT NOT NULL,         -- the rule's stable name
    rule_offset         INTEGER NOT NULL,      -- its offset in days when created (also its urgency)
    channel             TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    -- 1 while the row holds the participant x month x rule x channel key; NULL once a rule edit
    -- replaced it before it was sent (NULLs never collide in a UNIQUE constraint).
    slot                INTEGER DEFAULT 1 CHECK (slot = 1),
    status              TEXT NOT NULL,
    reason              TEXT,                  -- why cancelled, skipped, superseded, failed
    occurrence_date     INTEGER NOT NULL,      -- local date the rule fell on (days since 1970-01-01)
    send_date           INTEGER NOT NULL,      -- local date it is to be sent on
    planned_at          INTEGER NOT NULL,      -- planned send instant (Unix seconds)
    expires_at          INTEGER,               -- not sent after this instant
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (participant_id, contribution_month, rule, channel, slot)
);

-- The dispatcher claims pending reminders by planned instant.
CREATE INDEX reminders_pending ON reminders (planned_at) WHERE status = 'pending';
-- At most one message per participant, channel and local day.
CREATE INDEX reminders_day ON reminders (send_date, participant_id, channel);
-- Finding a rule's reminders created under another timing (a schedule edit).
CREATE INDEX reminders_rule_urgency ON reminders (rule, rule_offset);

-- Every status change of a reminder, with its time and reason, written by a trigger so no code
-- path can change a status without leaving history. The first status is the row's own
-- (status, reason, created_at): recording it twice would double the cost of a scan.
CREATE TABLE reminder_events (
    id           INTEGER PRIMARY KEY,
    reminder_id  INTEGER NOT NULL REFERENCES reminders (id),
    status       TEXT NOT NULL,
    reason       TEXT,
    at           INTEGER NOT NULL
);

CREATE INDEX reminder_events_reminder ON reminder_events (reminder_id);

CREATE TRIGGER reminders_history_update AFTER UPDATE OF status ON reminders
WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO reminder_events (reminder_id, status, reason, at)
    VALUES (NEW.id, NEW.status, NEW.reason, NEW.updated_at);
END;

-- Scans that ran, for /metrics, catch-up diagnostics and "why did X not get a message?".
CREATE TABLE scans (
    id            INTEGER PRIMARY KEY,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER NOT NULL,
    created       INTEGER NOT NULL,
    skipped       INTEGER NOT NULL,
    superseded    INTEGER NOT NULL,
    cancelled     INTEGER NOT NULL
);
