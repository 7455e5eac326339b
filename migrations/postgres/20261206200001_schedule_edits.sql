-- Schedule edits re-plan the reminders not yet sent.

-- The rule fingerprints the scan planned under (JSON: rule name to fingerprint of everything
-- that decides when and whether its reminders go out). A rule whose fingerprint differs from the
-- last scan's was edited: the next scan re-plans its reminders not yet sent.
ALTER TABLE scans ADD COLUMN plan_fingerprints TEXT;
-- Pending reminders the scan gave a new plan.
ALTER TABLE scans ADD COLUMN replanned BIGINT NOT NULL DEFAULT 0;

-- Edited rules are found by fingerprint, no longer by a changed rule_offset: nothing looks
-- reminders up by (rule, rule_offset) any more, and the index would cost every insert.
DROP INDEX IF EXISTS reminders_rule_urgency;
