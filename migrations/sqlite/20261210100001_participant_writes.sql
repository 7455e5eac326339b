-- Which participants were written since a scan last looked, so that a scan that finds nothing new
-- to do reads only those (src/scan/memo.rs).
--
-- A scan starts a new write epoch and remembers it; every later write of a column the scan reads
-- stamps the row with the epoch current at that moment. SQLite runs one write transaction at a
-- time, so a row stamped with an epoch at or after the remembered one was written after the scan
-- began, and one stamped before it was visible to that scan. Rows written before this migration
-- keep 0: a daemon's first scan looks at everyone anyway.
ALTER TABLE participants ADD COLUMN written_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TABLE participant_write_epoch (
    epoch  INTEGER NOT NULL
);
INSERT INTO participant_write_epoch (epoch) VALUES (1);

CREATE TRIGGER participants_written_insert AFTER INSERT ON participants
BEGIN
    UPDATE participants SET written_epoch = (SELECT epoch FROM participant_write_epoch) WHERE id = NEW.id;
END;

CREATE TRIGGER participants_written_update
    AFTER UPDATE OF phone, email, kelurahan_code, segment, funding, paid_through, preferred_channel, opted_out
    ON participants
BEGIN
    UPDATE participants SET written_epoch = (SELECT epoch FROM participant_write_epoch) WHERE id = NEW.id;
END;

CREATE INDEX participants_written ON participants (written_epoch);

-- Deleting reminders is the one change a scan's memory of what it probed cannot see in the
-- participants: retention counts each batch it deletes here, and a scan that finds the count
-- changed probes everyone.
CREATE TABLE reminder_deletions (
    generation  BIGINT NOT NULL
);
INSERT INTO reminder_deletions (generation) VALUES (0);
