"""The storage the domain needs, one protocol per area, each reached from one transaction as
`tx.<area>` (`ports.Tx`); `causerie.store.repositories` implements them (docs/architecture.md)."""
