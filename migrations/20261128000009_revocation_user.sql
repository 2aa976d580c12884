-- The Zoom user a queued token belongs to. Zoom's revoke ends the app's authorization for
-- that user, every token of it: while another connection holds a token of the same app
-- and user, revoking would end that one too, so the old copy is dropped instead.
ALTER TABLE token_revocations ADD COLUMN zoom_user_id TEXT;
