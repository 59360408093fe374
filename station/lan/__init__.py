"""The station on the LAN: TLS listener, zeroconf announcement, pairing and API v1.

Entry PCs (the ``station-collect`` client) find the station by zeroconf, pair once
(a staff member approves the request on the touch screen) and then pull every
published file through the API in :mod:`station.lan.api` (documented in
``docs/api.md``). :class:`station.lan.service.LanService` wires the parts for
:class:`station.app.station.Station`.
"""
