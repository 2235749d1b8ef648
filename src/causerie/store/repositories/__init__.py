"""SQL implementations of the domain's repositories (domain/repositories/), one per area, each
over the connection of one transaction (`SqlTx`)."""
