"""The domain: Causerie's nouns and rules. It imports no web framework, SQL or Redis code."""
