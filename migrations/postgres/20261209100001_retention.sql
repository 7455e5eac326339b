-- History that does not grow without end.
--
-- 1. The two history tables, reminder_events and receipts, are partitioned by calendar month
--    (UTC) of their instant, so dropping a month of history is dropping a table, not deleting
--    millions of rows. A DEFAULT partition catches rows of a month whose partition does not exist
--    yet; history_partition() creates a month's partition and moves such rows into it. The
--    daemon creates the partitions of the three months to come, so in steady operation the
--    DEFAULT partition stays empty and a partition is made before its month's first row.
-- 2. What reports read of the reminders that retention deletes is kept in three aggregate tables,
--    so a report of a retired month gives the same figures as before.

-- Creates the partition of `parent` (reminder_events or receipts) for the UTC month that holds
-- the instant `at` (Unix seconds), if it does not exist; rows of that month already in the
-- DEFAULT partition are moved into it. Returns the partition's name. Attaching and dropping a
-- partition lock the parent table briefly; a lock not had within 5 s fails the call (the daemon
-- tries again later) rather than queue every status change behind it.
CREATE FUNCTION history_partition(parent TEXT, at BIGINT) RETURNS TEXT LANGUAGE plpgsql
SET lock_timeout = '5s' AS $$
DECLARE
    month_start TIMESTAMP := date_trunc('month', to_timestamp(at) AT TIME ZONE 'UTC');
    lower_bound BIGINT := extract(epoch FROM month_start)::BIGINT;
    upper_bound BIGINT := extract(epoch FROM month_start + INTERVAL '1 month')::BIGINT;
    time_column TEXT := CASE parent WHEN 'receipts' THEN 'received_at' ELSE 'at' END;
    part TEXT := parent || '_p' || to_char(month_start, 'YYYYMM');
BEGIN
    IF parent NOT IN ('reminder_events', 'receipts') THEN
        RAISE EXCEPTION 'history_partition: % is not a history table', parent;
    END IF;
    -- Two instances may create the same month at once.
    PERFORM pg_advisory_xact_lock(hashtext('history_partition'));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN part;
    END IF;
    -- Writes into the DEFAULT partition wait until the partition is attached: a row of the month
    -- written between the move and the attach would make the attach fail.
    EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent || '_default');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, parent);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) '
                   'INSERT INTO %I SELECT * FROM moved',
                   parent || '_default', time_column, time_column, part)
        USING lower_bound, upper_bound;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
                   parent, part, lower_bound, upper_bound);
    RETURN part;
END;
$$;

-- Drops the partitions of `parent` whose whole month lies before `cutoff` (Unix seconds) and
-- deletes the DEFAULT partition's rows before it. Returns the number of partitions dropped.
CREATE FUNCTION history_drop_before(parent TEXT, cutoff BIGINT) RETURNS INTEGER LANGUAGE plpgsql
SET lock_timeout = '5s' AS $$
DECLARE
    time_column TEXT := CASE parent WHEN 'receipts' THEN 'received_at' ELSE 'at' END;
    part RECORD;
    dropped INTEGER := 0;
BEGIN
    IF parent NOT IN ('reminder_events', 'receipts') THEN
        RAISE EXCEPTION 'history_drop_before: % is not a history table', parent;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('history_partition'));
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent::regclass
          AND c.relname ~ ('^' || parent || '_p[0-9]{6}$')
          AND extract(epoch FROM to_timestamp(right(c.relname, 6), 'YYYYMM') AT TIME ZONE 'UTC'
                                  + INTERVAL '1 month')::BIGINT <= cutoff
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    EXECUTE format('DELETE FROM %I WHERE %I < $1', parent || '_default', time_column) USING cutoff;
    RETURN dropped;
END;
$$;

-- reminder_events, partitioned. Its ids keep their sequence; the primary key must hold the
-- partition column.
ALTER TABLE reminder_events RENAME TO reminder_events_unpartitioned;
ALTER INDEX reminder_events_pkey RENAME TO reminder_events_unpartitioned_pkey;
ALTER INDEX reminder_events_reminder RENAME TO reminder_events_unpartitioned_reminder;
CREATE TABLE reminder_events (
    id           BIGINT NOT NULL DEFAULT nextval('reminder_events_id_seq'),
    reminder_id  BIGINT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT,
    at           BIGINT NOT NULL,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE reminder_events_id_seq OWNED BY reminder_events.id;
CREATE TABLE reminder_events_default PARTITION OF reminder_events DEFAULT;
CREATE INDEX reminder_events_reminder ON reminder_events (reminder_id);

-- receipts, partitioned the same way. Nothing references a receipt. Its reminder is no longer a
-- foreign key: attaching or dropping a partition of a table with one locks the referenced table,
-- reminders, against every status change, and waits for each writer that holds a reminder row
-- and is about to write a receipt (a deadlock). Receipts are matched to reminders by the code
-- only, from ids it has just read, and retention deletes a reminder's receipts before it.
ALTER TABLE receipts RENAME TO receipts_unpartitioned;
ALTER INDEX receipts_pkey RENAME TO receipts_unpartitioned_pkey;
ALTER INDEX receipts_waiting RENAME TO receipts_unpartitioned_waiting;
ALTER INDEX receipts_reminder RENAME TO receipts_unpartitioned_reminder;
CREATE TABLE receipts (
    id                   BIGINT NOT NULL DEFAULT nextval('receipts_id_seq'),
    gateway              TEXT NOT NULL,
    provider_message_id  TEXT,
    -- Matched reminder; NULL while the send it belongs to is not recorded yet.
    reminder_id          BIGINT,
    -- Normalised: accepted, sent, buffered, delivered, undelivered, expired, unknown.
    status               TEXT NOT NULL,
    raw                  TEXT NOT NULL,
    received_at          BIGINT NOT NULL,
    -- What it did: applied, ignored (a late or repeated status), waiting (no send yet).
    outcome              TEXT NOT NULL,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
ALTER SEQUENCE receipts_id_seq OWNED BY receipts.id;
CREATE TABLE receipts_default PARTITION OF receipts DEFAULT;
CREATE INDEX receipts_waiting ON receipts (gateway, provider_message_id) WHERE reminder_id IS NULL;
CREATE INDEX receipts_reminder ON receipts (reminder_id);

-- A partition for every month that has history, and for this month and the next three.
SELECT history_partition('reminder_events', m)
FROM (SELECT DISTINCT extract(epoch FROM date_trunc('month', to_timestamp(at) AT TIME ZONE 'UTC'))::BIGINT AS m
      FROM reminder_events_unpartitioned
      UNION SELECT extract(epoch FROM date_trunc('month', now() AT TIME ZONE 'UTC') + n * INTERVAL '1 month')::BIGINT
      FROM generate_series(0, 3) AS n) months;
SELECT history_partition('receipts', m)
FROM (SELECT DISTINCT extract(epoch FROM date_trunc('month', to_timestamp(received_at) AT TIME ZONE 'UTC'))::BIGINT AS m
      FROM receipts_unpartitioned
      UNION SELECT extract(epoch FROM date_trunc('month', now() AT TIME ZONE 'UTC') + n * INTERVAL '1 month')::BIGINT
      FROM generate_series(0, 3) AS n) months;

INSERT INTO reminder_events SELECT id, reminder_id, status, reason, at FROM reminder_events_unpartitioned;
INSERT INTO receipts SELECT id, gateway, provider_message_id, reminder_id, status, raw, received_at, outcome
FROM receipts_unpartitioned;
DROP TABLE reminder_events_unpartitioned;
DROP TABLE receipts_unpartitioned;

-- Reminder outcomes of deleted reminders, per WIB month of their send (or of their last change,
-- never sent), kelurahan, rule and channel: what `report` counts.
CREATE TABLE retired_outcomes (
    month_start     BIGINT NOT NULL,           -- the WIB month's first instant (Unix seconds)
    month_end       BIGINT NOT NULL,           -- the next month's first instant
    kelurahan_code  TEXT NOT NULL,
    rule            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    sent            BIGINT NOT NULL,
    delivered       BIGINT NOT NULL,
    failed          BIGINT NOT NULL,
    PRIMARY KEY (month_start, kelurahan_code, rule, channel)
);

-- Deleted reminders that a payment was credited to, per WIB month of their send, kelurahan, rule,
-- channel and whole days to the first credited payment: conversion, days to pay, amount paid.
CREATE TABLE retired_conversions (
    month_start     BIGINT NOT NULL,
    month_end       BIGINT NOT NULL,
    kelurahan_code  TEXT NOT NULL,
    rule            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    days_to_pay     INTEGER NOT NULL,
    reminders       BIGINT NOT NULL,
    amount          BIGINT NOT NULL,           -- Rupiah credited to them together
    PRIMARY KEY (month_start, kelurahan_code, rule, channel, days_to_pay)
);

-- The holdout comparison of a deleted contribution month, per kelurahan: participants reminded
-- and held out, and how many of each paid by the due date and by 30 days after it.
CREATE TABLE retired_effect (
    contribution_month  INTEGER NOT NULL,
    kelurahan_code      TEXT NOT NULL,
    reminded            BIGINT NOT NULL,
    reminded_paid       BIGINT NOT NULL,
    reminded_paid_30    BIGINT NOT NULL,
    held_out            BIGINT NOT NULL,
    held_out_paid       BIGINT NOT NULL,
    held_out_paid_30    BIGINT NOT NULL,
    PRIMARY KEY (contribution_month, kelurahan_code)
);
