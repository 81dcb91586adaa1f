-- Which worker holds a running job's lease: a restarted process takes back at once the
-- jobs it held when it stopped (`jobs::release_held`) instead of waiting out their
-- leases. NULL for queued and dead jobs, and for jobs claimed before this column.
ALTER TABLE jobs ADD COLUMN leased_by TEXT;
