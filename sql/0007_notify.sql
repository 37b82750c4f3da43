-- Notification delivery (notify/). A claimed row is 'delivering' with next_attempt_at as the
-- end of its lease; a worker that dies mid-send leaves it there, and it is claimed again
-- once the lease ends. This index finds those few rows without scanning the outbox.
CREATE INDEX notifications_lease_idx ON notifications (next_attempt_at) WHERE status = 'delivering';
-- Listing an account's notifications newest first.
CREATE INDEX notifications_account_idx ON notifications (account_id, id DESC);
