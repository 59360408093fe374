"""Helpers shared by every test tier (unit, integration, e2e).

Test modules never import from one another or from a conftest; what two tests share
lives here, one module per purpose:

- ``configs``: the configuration of a fast simulated test station;
- ``stations``: a started in-process station, and capturing pages into it;
- ``commands``: the ``station`` command in a subprocess (its environment);
- ``server``: ``station serve`` in a subprocess on a free port;
- ``ports``: free loopback ports and waiting for a server to listen;
- ``http_client``: cookie-keeping HTTP clients for the station's screens;
- ``screens``, ``touch``: the kiosk's touch screen in Playwright, and screenshots;
- ``lan``: a station serving the LAN API, and a pinned HTTPS client for it;
- ``netns``: a second machine on a virtual LAN (a network namespace and a veth pair);
- ``fake_station``: a stand-in station API for the collector;
- ``sane_backend``: a private SANE configuration for the ``test`` backend;
- ``store``: a store's station identity, naming, and tiny PDFs;
- ``images``, ``hotfolder``: page images made by code, a hot folder's sink;
- ``entries``: synthetic entries with known masks, and PDFs rendered by poppler;
- ``checks``: what a healthy data folder looks like;
- ``events``: waiting on a station's live events.
"""
