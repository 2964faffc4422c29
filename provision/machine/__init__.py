"""Facts about the machine: read-only probes and the record they make."""
