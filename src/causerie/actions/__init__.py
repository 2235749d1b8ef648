"""Actions: the verbs that read and change state (docs/architecture.md).

`check_*` validates and authorises untrusted input, `do_*` changes state, `access_*` loads only
what the actor may see, `get_*` reads. Each `do_*` runs in one transaction.
"""
