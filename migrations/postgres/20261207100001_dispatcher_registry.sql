-- Dispatchers register and heartbeat; a reminder being sent is held by its dispatcher's name.
-- One heartbeat renews every claim of an instance at once. Claims of an instance that has not
-- heartbeaten for the lease period (a killed daemon) are released to pending in one statement.

CREATE TABLE dispatchers (
    name          TEXT PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);

-- Claims walk ready reminders of one channel in the order they became ready, with LIMIT: no
-- sort of the backlog, and a cost that does not grow with the history of sent reminders.
-- A reminder waiting out a retry becomes ready at next_attempt_at, else at planned_at.
CREATE INDEX reminders_ready ON reminders (channel, (COALESCE(next_attempt_at, planned_at)), id)
    WHERE status = 'pending';

-- Claims are found by holder; lease_until is no longer used for reminders.
DROP INDEX reminders_leased;
CREATE INDEX reminders_held ON reminders (leased_by) WHERE status = 'sending';

-- History rows of one statement in one INSERT: a statement-level trigger over the transition
-- tables instead of one trigger call and one INSERT per row (a claim or a group of outcomes
-- changes hundreds of statuses at once). Transition tables cannot go with a column list, so it
-- fires on every UPDATE of reminders and keeps only the rows whose status changed. Transition
-- tables have no statistics: without nested loops the join is a hash join, linear in the rows
-- (a nested loop over a group of 2,000 is quadratic; measured 79 ms against 31 ms).
DROP TRIGGER reminders_history ON reminders;
DROP FUNCTION reminders_history();

CREATE FUNCTION reminders_history() RETURNS trigger LANGUAGE plpgsql
SET enable_nestloop = off AS $$
BEGIN
    INSERT INTO reminder_events (reminder_id, status, reason, at)
    SELECT n.id, n.status, n.reason, n.updated_at
    FROM changed_new n JOIN changed_old o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status
    ORDER BY n.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reminders_history AFTER UPDATE ON reminders
REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
FOR EACH STATEMENT EXECUTE FUNCTION reminders_history();
