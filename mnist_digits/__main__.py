"""`python -m mnist_digits` and the `mnist-digits` command (pyproject.toml's console script)."""
import sys


def run() -> int:
    try:
        from .cli import main  # imports torch: seconds, during which Ctrl-C must be quiet too
    except KeyboardInterrupt:
        from .errors import INTERRUPTED
        print(INTERRUPTED, file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
