-- The contact-verification list: a participant whose phone number or e-mail address an import
-- changed leaves the list; failures of messages sent before the change no longer count.

-- When an import last changed the participant's phone or e-mail (Unix seconds); NULL: never
-- since the participant was created.
ALTER TABLE participants ADD COLUMN contact_changed_at INTEGER;
