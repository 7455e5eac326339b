-- Standing of BPU participants per kelurahan at the end of each month, in the kelurahan's own
-- time zone: what the 12-month chart and reports of past months read, so history does not move
-- when today's data does. One row per kelurahan and month; the first instance to write it wins
-- (INSERT ... ON CONFLICT DO NOTHING) and the row never changes afterwards.
-- `rebuilt` marks a month taken later from the payment history (the daemon was not running at
-- the month's end, or an operator backfilled it) instead of right after its end.
CREATE TABLE standing_snapshots (
    kelurahan_code  TEXT NOT NULL REFERENCES kelurahan (code),
    month           INTEGER NOT NULL,          -- year * 12 + (month - 1)
    participants    BIGINT NOT NULL,
    active          BIGINT NOT NULL,
    nonactive       BIGINT NOT NULL,
    arrears_1       BIGINT NOT NULL,
    arrears_2       BIGINT NOT NULL,
    arrears_3_plus  BIGINT NOT NULL,
    month_end_at    BIGINT NOT NULL,           -- the instant standing is taken at (Unix seconds)
    taken_at        BIGINT NOT NULL,           -- when it was written (Unix seconds)
    rebuilt         BOOLEAN NOT NULL,
    PRIMARY KEY (kelurahan_code, month)
);

CREATE INDEX standing_snapshots_month ON standing_snapshots (month);
