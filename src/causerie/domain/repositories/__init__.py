"""The storage the domain needs, one protocol per area, reached from a transaction (`tx.jobs`)."""
