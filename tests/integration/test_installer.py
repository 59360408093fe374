"""scripts/install.sh in a throwaway Debian bookworm root, as on a fresh station.

The root is made by ``debootstrap --variant=minbase bookworm`` once and kept as a
tarball in the CI cache (``$LEDGER_STATION_CI_CACHE``, default
``~/.cache/ledger-station-ci``) with apt's downloads and a wheelhouse of the
station's dependencies, so a re-run costs the installation itself (about a minute,
most of it dpkg) and a clean CI machine still works (two to three minutes more).

Each run of the installer happens in ``unshare --mount --pid --fork`` + ``chroot``:
the mounts it needs (/proc, the caches) and any process it starts end with it, and
the host is never touched. systemd is not running in the root, so the installer
enables the units for the next boot instead of starting them; the units are then
checked with ``systemd-analyze verify --root`` against the real installed files.

The installer runs with ``--no-kiosk`` (Chromium alone would add ~300 MB) and
``--wheelhouse`` (no PyPI inside the root), from a copy of this checkout: the station
itself is built from source inside the root, as a technician's install does.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIRROR = os.environ.get("LEDGER_STATION_CI_MIRROR", "http://deb.debian.org/debian")
#: HOME is redirected per test, so the cache is found from the account itself.
CACHE = Path(
    os.environ.get("LEDGER_STATION_CI_CACHE")
    or Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "ledger-station-ci"
)
SOURCE = ("scripts", "systemd", "config", "station", "docs")
SOURCE_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "babel.cfg", "README.md")
#: What the installer may touch; a second run must leave all of it as it was.
INSTALLED = (
    "opt/ledger-station",
    "etc/ledger-station",
    "var/lib/ledger-station",
    "etc/systemd/system",
    "etc/systemd/journald.conf.d",
    "etc/udev/rules.d",
    "etc/tmpfiles.d",
    "etc/polkit-1",
    "usr/local/bin",
    "etc/passwd",
    "etc/group",
    "etc/shadow",
    "etc/gshadow",
)
#: Mounts and processes of a run end with it: its own mount and PID namespaces.
UNSHARE = ("unshare", "--mount", "--pid", "--fork", "--propagation", "private")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: a chroot with its own users, packages and mounts"
)


@dataclass
class Root:
    """The throwaway system and what happened to it."""

    path: Path
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def run(
        self, *command: str, check: bool = True, name: str = ""
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside the root, with /proc and the caches mounted."""
        start = time.monotonic()
        wheels = self.path / "mnt" / "wheelhouse"
        script = (
            'set -e; r="$1"; shift; '
            'mount -t proc proc "$r/proc"; '
            f'mount --bind -o ro "{wheelhouse()}" "{wheels}"; '
            f'mount --bind "{CACHE}/apt/archives" "$r/var/cache/apt/archives"; '
            f'mount --bind "{CACHE}/apt/lists" "$r/var/lib/apt/lists"; '
            'exec chroot "$r" "$@"'
        )
        done = subprocess.run(
            [*UNSHARE, "sh", "-c", script, "sh", str(self.path), *command],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if name:
            self.timings[name] = time.monotonic() - start
            self.outputs[name] = done.stdout + done.stderr
        if check and done.returncode != 0:
            pytest.fail(f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def install(self, name: str, *options: str) -> str:
        script = "/root/ledger-station/scripts/install.sh"
        options = ("--no-kiosk", "--wheelhouse", "/mnt/wheelhouse", *options)
        return self.run("bash", script, *options, name=name).stdout


def _sh(*command: str, timeout: float = 900) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=timeout)


def base_tarball() -> Path:
    """A pristine minbase bookworm root as a tarball, made once per cache."""
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tarball = CACHE / f"bookworm-minbase-{arch}.tar"
    if tarball.exists():
        return tarball
    assert shutil.which("debootstrap"), "apt install debootstrap (scripts/dev.sh does)"
    building = CACHE / "root-building"
    shutil.rmtree(building, ignore_errors=True)
    try:
        # In its own mount namespace: the /proc debootstrap mounts in the target goes
        # with it, even when it is killed half-way.
        _sh(*UNSHARE, "debootstrap", "--variant=minbase", "bookworm", str(building), MIRROR)
        _sh("tar", "--one-file-system", "-C", str(building), "-cf", f"{tarball}.part", ".")
        os.replace(f"{tarball}.part", tarball)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return tarball


def wheelhouse() -> Path:
    """Wheels of every dependency (and of the build backend), for the pyproject in use."""
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    folder = CACHE / f"wheelhouse-{digest}"
    if folder.exists():
        return folder
    for old in CACHE.glob("wheelhouse-*"):
        shutil.rmtree(old)
    building = CACHE / "wheelhouse-building"
    shutil.rmtree(building, ignore_errors=True)
    pip = [str(REPO / ".venv" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    _sh(*pip, "wheel", "--quiet", "-w", str(building), str(REPO))
    _sh(
        *pip,
        "download",
        "--quiet",
        "-d",
        str(building),
        "setuptools>=77",
        "wheel",
        "babel>=2.12,<3",
    )
    for own in building.glob("ledger_station-*.whl"):
        own.unlink()  # the installer builds the station from the checkout
    os.replace(building, folder)
    return folder


def _copy_source(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCE:
        shutil.copytree(REPO / name, target / name, ignore=ignore, symlinks=True)
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, target / name)


def _prepare(path: Path) -> None:
    """What a real machine has and a CI root must be told: no daemons, a resolver."""
    policy = path / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\n# A chroot: never start services.\nexit 101\n")
    policy.chmod(0o755)
    # Only in this throwaway root: dpkg skips fsync, which halves the package install.
    (path / "etc" / "dpkg" / "dpkg.cfg.d" / "ci-unsafe-io").write_text("force-unsafe-io\n")
    shutil.copy(Path("/etc/resolv.conf"), path / "etc" / "resolv.conf")
    (path / "mnt" / "wheelhouse").mkdir(parents=True)
    _copy_source(path / "root" / "ledger-station")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Root]:
    for folder in ("apt/archives/partial", "apt/lists/partial"):
        (CACHE / folder).mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    start = time.monotonic()
    tarball = base_tarball()
    wheelhouse()
    timings["caches"] = time.monotonic() - start
    path = tmp_path_factory.mktemp("bookworm") / "root"
    path.mkdir()
    start = time.monotonic()
    _sh("tar", "-C", str(path), "-xf", str(tarball))
    _prepare(path)
    timings["unpack"] = time.monotonic() - start
    system = Root(path, timings)
    try:
        yield system
    finally:
        start = time.monotonic()
        # rm is several times quicker than shutil.rmtree on a whole system's files.
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False, timeout=600)
        timings["cleanup"] = time.monotonic() - start
        print("\ninstaller test timings (s):", {k: round(v, 1) for k, v in timings.items()})


def manifest(root: Path) -> dict[str, str]:
    """Type, mode, owner and content hash (or link target) of every installed path,
    without Python's byte-code caches (the interpreter writes them when it likes)."""
    found: dict[str, str] = {}
    for name in INSTALLED:
        top = root / name
        if not top.exists():
            continue
        items = [top] if not top.is_dir() else [top, *sorted(top.rglob("*"))]
        for item in items:
            if "__pycache__" in item.parts or item.suffix == ".pyc":
                continue
            info = item.lstat()
            if stat.S_ISLNK(info.st_mode):
                what = "-> " + os.readlink(item)
            elif stat.S_ISDIR(info.st_mode):
                what = "dir"
            else:
                what = hashlib.sha256(item.read_bytes()).hexdigest()
            found[str(item.relative_to(root))] = (
                f"{stat.filemode(info.st_mode)} {info.st_uid}:{info.st_gid} {what}"
            )
    return found


def _entry(root: Path, table: str, name: str) -> list[str]:
    for line in (root / "etc" / table).read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"{name} not in /etc/{table}")


def test_first_run_sets_up_packages_user_venv_units_and_data(root: Root) -> None:
    output = root.install("first run")
    assert "Installing system packages" in output

    listed = root.run("dpkg-query", "-W", "-f=${Package} ${Status}\\n").stdout
    have = {line.split()[0] for line in listed.splitlines() if line.endswith("installed")}
    for package in ("python3-venv", "python3-sane", "sane-utils", "libsane1", "qpdf"):
        assert package in have

    user = _entry(root.path, "passwd", "ledger-station")
    assert user[5:] == ["/var/lib/ledger-station", "/usr/sbin/nologin"]
    assert int(user[2]) < 1000  # a system user
    for group in ("scanner", "video", "input", "plugdev"):
        assert "ledger-station" in _entry(root.path, "group", group)[3].split(",")

    # The venv sees Debian's python-sane and runs the station, as the station's user.
    probe = "import sane, station; print(sane.__file__)"
    shown = root.run(
        "runuser", "-u", "ledger-station", "--", "/opt/ledger-station/venv/bin/python", "-c", probe
    ).stdout
    assert shown.startswith("/usr/lib/python3/dist-packages/")
    cfg = (root.path / "opt/ledger-station/venv/pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in cfg

    units = root.path / "etc" / "systemd" / "system"
    wanted = units / "multi-user.target.wants" / "ledger-station.service"
    assert os.readlink(wanted) == "/etc/systemd/system/ledger-station.service"
    assert (root.path / "etc/udev/rules.d/60-ledger-station.rules").is_file()
    assert (root.path / "etc/tmpfiles.d/ledger-station.conf").is_file()
    assert (root.path / "etc/systemd/journald.conf.d/ledger-station.conf").is_file()

    station = pwd_ids(root.path, "ledger-station")
    data = (root.path / "var/lib/ledger-station").stat()
    assert (data.st_uid, data.st_gid, stat.S_IMODE(data.st_mode)) == (*station, 0o750)
    conf_dir = (root.path / "etc/ledger-station").stat()
    assert (conf_dir.st_uid, conf_dir.st_gid, stat.S_IMODE(conf_dir.st_mode)) == (
        0,
        station[1],
        0o770,
    )
    conf = (root.path / "etc/ledger-station/station.toml").read_text()
    assert 'data_dir = "/var/lib/ledger-station"' in conf
    # The simulator is for demos and tests: an installed station chooses no device.
    assert tomllib.loads(conf)["capture"]["device"] == ""


def pwd_ids(root: Path, name: str) -> tuple[int, int]:
    entry = _entry(root, "passwd", name)
    return int(entry[2]), int(entry[3])


def test_units_verify_silently_against_the_installed_files(root: Root) -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root.path}", "ledger-station.service"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_station_command_and_doctor_run_as_the_station_user(root: Root) -> None:
    done = root.run(
        "/usr/local/bin/station", "--lang", "en", "doctor", "--json", check=False, name="doctor"
    )
    report = json.loads(done.stdout)
    assert report["config"] == "/etc/ledger-station/station.toml"  # it read the system file
    assert "/var/lib/ledger-station" in done.stdout
    # No device is chosen on a fresh install, so the doctor says so and that is its only
    # failure (exit 69): the station would capture nothing, not simulated pages.
    failed = [f for f in report["findings"] if f["status"] == "fail"]
    assert [(f["area"], f["key"]) for f in failed] == [("device", "driver.none")], done.stdout
    assert "No capture device is chosen" in failed[0]["message"]
    assert not report["would_use"]
    assert done.returncode == 69, done.stderr


def test_second_run_changes_nothing(root: Root) -> None:
    before = manifest(root.path)
    output = root.install("second run")
    assert "System packages: all present" in output
    assert "up to date" in output
    assert manifest(root.path) == before


def test_rerun_with_new_code_upgrades_in_place_and_keeps_data_and_config(root: Root) -> None:
    capture = root.path / "var/lib/ledger-station/captures/KS-2007-01/c1.png"
    capture.parent.mkdir(parents=True)
    capture.write_bytes(b"a page")
    config = root.path / "etc/ledger-station/station.toml"
    config.write_text(config.read_text().replace('name = "Trạm số hóa"', 'name = "Trạm 7"'))
    kept = manifest(root.path)
    source = root.path / "root/ledger-station/station/__init__.py"
    source.write_text(source.read_text() + "\n# upgraded\n")

    root.install("upgrade")

    site = next((root.path / "opt/ledger-station/venv/lib").glob("python3*/site-packages"))
    assert (site / "station" / "__init__.py").read_text().endswith("# upgraded\n")
    after = manifest(root.path)
    for path, what in kept.items():
        if path.startswith(("var/lib/ledger-station", "etc/ledger-station")):
            assert after[path] == what, path
    assert 'name = "Trạm 7"' in config.read_text()


def test_uninstall_keeps_data_unless_purged(root: Root) -> None:
    root.run("bash", "/root/ledger-station/scripts/uninstall.sh", name="uninstall")
    gone = (
        "opt/ledger-station",
        "etc/systemd/system/ledger-station.service",
        "usr/local/bin/station",
    )
    for name in gone:
        assert not (root.path / name).exists(), name
    wanted = root.path / "etc/systemd/system/multi-user.target.wants/ledger-station.service"
    assert not wanted.is_symlink()
    assert (root.path / "var/lib/ledger-station/captures/KS-2007-01/c1.png").exists()
    assert (root.path / "etc/ledger-station/station.toml").exists()
    assert _entry(root.path, "passwd", "ledger-station")

    root.run("bash", "/root/ledger-station/scripts/uninstall.sh", "--purge")
    assert not (root.path / "var/lib/ledger-station").exists()
    assert not (root.path / "etc/ledger-station").exists()
    assert "ledger-station:" not in (root.path / "etc/passwd").read_text()
