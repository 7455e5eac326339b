-- Dispatchers register and heartbeat; a reminder being sent is held by its dispatcher's name.
-- One heartbeat renews every claim of an instance at once. Claims of an instance that has not
-- heartbeaten for the lease period (a killed daemon) are released to pending in one statement.

CREATE TABLE dispatchers (
    name          TEXT PRIMARY KEY,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL
);

-- Claims walk ready reminders of one channel in the order they became ready, with LIMIT: no
-- sort of the backlog, and a cost that does not grow with the history of sent reminders.
-- A reminder waiting out a retry becomes ready at next_attempt_at, else at planned_at.
CREATE INDEX reminders_ready ON reminders (channel, COALESCE(next_attempt_at, planned_at), id)
    WHERE status = 'pending';

-- Claims are found by holder; lease_until is no longer used for reminders.
DROP INDEX reminders_leased;
CREATE INDEX reminders_held ON reminders (leased_by) WHERE status = 'sending';
