-- Kelurahan, participants and payments.
-- Months are integers (year * 12 + month - 1); instants are Unix seconds (UTC).

CREATE TABLE kelurahan (
    code            TEXT PRIMARY KEY,          -- Kemendagri PP.KK.CC.DDDD
    name            TEXT NOT NULL,
    kecamatan       TEXT NOT NULL,
    kabupaten_kota  TEXT NOT NULL,
    provinsi        TEXT NOT NULL,
    time_zone       TEXT NOT NULL              -- IANA name, from the province
);

CREATE TABLE participants (
    id                 BIGSERIAL PRIMARY KEY,
    nik                TEXT NOT NULL UNIQUE,
    kpj                TEXT,
    name               TEXT NOT NULL,
    phone              TEXT,                   -- E.164
    email              TEXT,
    kelurahan_code     TEXT NOT NULL REFERENCES kelurahan (code),
    segment            TEXT NOT NULL CHECK (segment IN ('bpu', 'pu')),
    funding            TEXT NOT NULL CHECK (funding IN ('self', 'collective', 'budget')),
    monthly_amount     BIGINT NOT NULL CHECK (monthly_amount > 0),
    start_month        INTEGER NOT NULL,
    paid_through       INTEGER NOT NULL,
    preferred_channel  TEXT NOT NULL CHECK (preferred_channel IN ('sms', 'email', 'both')),
    opted_out          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    CHECK (paid_through >= start_month - 1)
);

-- The per-kelurahan scan reads BPU participants of one kelurahan by how far
-- they have paid; this index answers it without touching other kelurahan.
CREATE INDEX participants_kelurahan_scan ON participants (kelurahan_code, segment, paid_through);
CREATE INDEX participants_kpj ON participants (kpj) WHERE kpj IS NOT NULL;

CREATE TABLE payments (
    id              BIGSERIAL PRIMARY KEY,
    external_ref    TEXT NOT NULL UNIQUE,
    participant_id  BIGINT NOT NULL REFERENCES participants (id),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    months          INTEGER NOT NULL CHECK (months > 0),
    first_month     INTEGER NOT NULL,          -- first contribution month this payment covers
    last_month      INTEGER NOT NULL,
    paid_at         BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    source          TEXT NOT NULL,             -- import, http, inbox
    recorded_at     BIGINT NOT NULL
);

CREATE INDEX payments_participant ON payments (participant_id, paid_at);
