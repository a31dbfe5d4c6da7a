"""Where a result came from: library versions, git commit, machine."""
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch


def versions() -> dict:
    """Python's, torch's and torchvision's (read from its metadata: importing it costs
    `serve` 170 MB)."""
    try:
        vision = version("torchvision")
    except PackageNotFoundError:
        vision = None
    return {"python": platform.python_version(), "torch": str(torch.__version__),
            "torchvision": vision}


def git_commit() -> str | None:
    """The commit of this checkout ('-dirty' if it has local changes), else $GIT_COMMIT or None
    (a copy of the tree without .git, as on a rented GPU machine, can name it that way)."""
    root = Path(__file__).resolve().parent.parent
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=root, capture_output=True, text=True,  # noqa: E731
                                        timeout=5, check=True).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("-dirty" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("GIT_COMMIT")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "platform": platform.platform(), **versions(), "git_commit": git_commit()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info
