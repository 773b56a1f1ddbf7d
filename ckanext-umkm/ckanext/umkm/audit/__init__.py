"""The audit trail: the hash-chained event log (``log``) with its signed
checkpoints, the log-book export (``export``) and the integrity of stored
files (``file_integrity``)."""
