"""The domain's repositories (`causerie.domain.repositories`) in SQLAlchemy Core, one module per
area, composed over one connection by `SqlTx` (store/tx.py)."""
