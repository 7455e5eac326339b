-- Which participants were written since a scan last looked, so that a scan that finds nothing new
-- to do reads only those (src/scan/memo.rs).
--
-- Each row keeps the transaction that last wrote a column the scan reads. A transaction id, unlike
-- a timestamp or a sequence, tells whether a write was visible to an earlier scan: a scan keeps the
-- snapshot it started with (pg_current_snapshot()), and a row was written since when its writer is
-- not visible in that snapshot (pg_visible_in_snapshot); every such writer's id is at or above the
-- snapshot's xmin, so an index on the id finds them. Rows written before this migration keep NULL:
-- a daemon's first scan looks at everyone anyway.
ALTER TABLE participants ADD COLUMN written_xid xid8;
-- New rows take it from the default (cheaper than a trigger on every row of a bulk load); existing
-- rows are not rewritten.
ALTER TABLE participants ALTER COLUMN written_xid SET DEFAULT pg_current_xact_id();

CREATE FUNCTION participants_stamp_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.written_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER participants_written
    BEFORE UPDATE OF phone, email, kelurahan_code, segment, funding, paid_through,
        preferred_channel, opted_out
    ON participants FOR EACH ROW EXECUTE FUNCTION participants_stamp_written();

CREATE INDEX participants_written ON participants (written_xid);

-- Deleting reminders is the one change a scan's memory of what it probed cannot see in the
-- participants: retention counts each batch it deletes here, and a scan that finds the count
-- changed probes everyone.
CREATE TABLE reminder_deletions (
    generation  BIGINT NOT NULL
);
INSERT INTO reminder_deletions (generation) VALUES (0);
