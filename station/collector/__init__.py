"""``station-collect``: the entry PCs' side of the LAN (pure Python, Windows and Linux).

Discovers stations by zeroconf, pairs once (pinning the station's TLS certificate), then
pulls every new and replaced file into a folder that mirrors the station's names,
verifying SHA-256, writing atomically, resuming interrupted downloads and acknowledging
what arrived intact. Nothing is ever deleted on either side.

Only the standard library and ``zeroconf`` may be imported from this package (it runs
on Windows entry PCs that install no imaging stack); a unit test checks the import
chain in a fresh interpreter.
"""
