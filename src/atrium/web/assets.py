"""Copy the front-end vendor files from node_modules into src/atrium/web/static/vendor/.

`npm ci` installs the exact versions pinned in package-lock.json; this module then copies the few files the
web faces load (never a CDN). The vendor folder is git-ignored: it is rebuilt on every install.

    python -m atrium.web.assets [--node-modules PATH] [--dest PATH]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
VENDOR_DIR = WEB_DIR / "static" / "vendor"
REPO_ROOT = WEB_DIR.parents[2]


@dataclass(frozen=True)
class VendorFile:
    package: str
    source: str  # path inside the package
    target: str  # file name inside static/vendor


VENDOR_FILES: tuple[VendorFile, ...] = (
    VendorFile("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    VendorFile("chart.js", "dist/chart.umd.js", "chart.umd.js"),
)
# Installed from npm but never copied here: the served folder holds only what pages load. axe-core is read
# by the browser tests straight from node_modules (tests/web/browser_support.py: AXE).
NOT_SERVED: tuple[str, ...] = ("axe.min.js",)


class AssetsError(RuntimeError):
    """node_modules is missing or incomplete."""


def copy_vendor(node_modules: Path, dest: Path = VENDOR_DIR) -> list[Path]:
    """Copy every vendor file; raise AssetsError naming what is missing and how to fix it."""
    if not node_modules.is_dir():
        raise AssetsError(
            f"{node_modules} does not exist: run `npm ci` in the repository root first "
            "(it installs the versions pinned in package-lock.json)"
        )
    missing = [
        f"{f.package}/{f.source}" for f in VENDOR_FILES if not (node_modules / f.package / f.source).is_file()
    ]
    if missing:
        raise AssetsError(
            f"missing in {node_modules}: {', '.join(missing)}; run `npm ci` to reinstall the pinned packages"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for name in NOT_SERVED:  # an older install copied it; the folder is public
        (dest / name).unlink(missing_ok=True)
    copied = []
    for f in VENDOR_FILES:
        target = dest / f.target
        shutil.copyfile(node_modules / f.package / f.source, target)
        copied.append(target)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atrium.web.assets", description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=REPO_ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR)
    args = parser.parse_args(argv)
    try:
        copied = copy_vendor(args.node_modules, args.dest)
    except AssetsError as exc:
        print(f"atrium.web.assets: {exc}", file=sys.stderr)
        return 1
    for path in copied:
        print(f"copied {path.name} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
