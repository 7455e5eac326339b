-- What reports read of the reminders that retention deletes is kept in three aggregate tables, so
-- a report of a retired month gives the same figures as before. (On SQLite the history tables are
-- not partitioned: retention deletes their old rows.)

-- Reminder outcomes of deleted reminders, per WIB month of their send (or of their last change,
-- never sent), kelurahan, rule and channel: what `report` counts.
CREATE TABLE retired_outcomes (
    month_start     INTEGER NOT NULL,           -- the WIB month's first instant (Unix seconds)
    month_end       INTEGER NOT NULL,           -- the next month's first instant
    kelurahan_code  TEXT NOT NULL,
    rule            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    sent            INTEGER NOT NULL,
    delivered       INTEGER NOT NULL,
    failed          INTEGER NOT NULL,
    PRIMARY KEY (month_start, kelurahan_code, rule, channel)
);

-- Deleted reminders that a payment was credited to, per WIB month of their send, kelurahan, rule,
-- channel and whole days to the first credited payment: conversion, days to pay, amount paid.
CREATE TABLE retired_conversions (
    month_start     INTEGER NOT NULL,
    month_end       INTEGER NOT NULL,
    kelurahan_code  TEXT NOT NULL,
    rule            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    days_to_pay     INTEGER NOT NULL,
    reminders       INTEGER NOT NULL,
    amount          INTEGER NOT NULL,           -- Rupiah credited to them together
    PRIMARY KEY (month_start, kelurahan_code, rule, channel, days_to_pay)
);

-- The holdout comparison of a deleted contribution month, per kelurahan: participants reminded
-- and held out, and how many of each paid by the due date and by 30 days after it.
CREATE TABLE retired_effect (
    contribution_month  INTEGER NOT NULL,
    kelurahan_code      TEXT NOT NULL,
    reminded            INTEGER NOT NULL,
    reminded_paid       INTEGER NOT NULL,
    reminded_paid_30    INTEGER NOT NULL,
    held_out            INTEGER NOT NULL,
    held_out_paid       INTEGER NOT NULL,
    held_out_paid_30    INTEGER NOT NULL,
    PRIMARY KEY (contribution_month, kelurahan_code)
);
