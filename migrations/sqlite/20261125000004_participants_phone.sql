-- An inbound STOP finds its participants by phone number.
CREATE INDEX participants_phone ON participants (phone) WHERE phone IS NOT NULL;
