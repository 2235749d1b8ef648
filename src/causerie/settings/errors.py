"""The one error the settings raise."""


class SettingsError(ValueError):
    """A setting has a value Causerie cannot run with; the message names it."""
