"""Small cookie-keeping HTTP clients for the station's screens (no browser)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request


class Client:
    """A cookie-keeping HTTP client that answers (status, content type, body)."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
        )
        self.csrf = ""
        self.last_headers: dict[str, str] = {}  # of the last answer

    def get(self, path: str, json_wanted: bool = False) -> tuple[int, str, str]:
        headers = {"Accept": "application/json"} if json_wanted else {"Accept": "text/html"}
        return self._open(urllib.request.Request(self.base + path, headers=headers))

    def post(
        self,
        path: str,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        **headers: str,
    ) -> tuple[int, str, str]:
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.base + path, data=body or b"", headers=headers)
        return self._open(request)

    def form(self, path: str, **fields: str) -> tuple[int, str, str]:
        """POST a form carrying this session's CSRF token (fetched once)."""
        if not self.csrf:
            page = self.get("/status")[2]
            found = re.search(r'name="csrf" value="([^"]+)"', page)
            assert found is not None
            self.csrf = found.group(1)
        return self.post(path, {"csrf": self.csrf, **fields})

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                self.last_headers = dict(response.headers)
                kind = response.headers.get("Content-Type", "")
                return response.status, kind, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            self.last_headers = dict(error.headers)
            kind = error.headers.get("Content-Type", "")
            return error.code, kind, error.read().decode(errors="replace")

    def set_up(self, pin: str, name: str, book: str, profile: str) -> None:
        """Past the wizard (admin PIN), a shift for ``name``, ``book`` ("2010/2") open."""
        assert self.form("/setup/pin", pin=pin, pin2=pin)[0] == 302
        assert self.form("/shift/new", name=name, pin=pin, pin2=pin)[0] == 302
        year, number = book.split("/")
        created = self.form(
            "/books/new", code="KS", year=year, book=number, profile=profile, first_entry="1"
        )
        assert created[0] == 302, created[2]


class Browser:
    """A tiny cookie-keeping client for the station's pages."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(form).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer to look at, not to follow
