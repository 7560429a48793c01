"""Backups of the centre's data (database, recordings, prompts, configuration) with a manifest
of checksums, their verification in a scratch database, and restore into an empty system.
docs/backup.md says what is kept and how to restore."""
