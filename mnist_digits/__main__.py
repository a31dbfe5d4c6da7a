import sys

try:
    from .cli import main  # imports torch: seconds, during which Ctrl-C must be quiet too
except KeyboardInterrupt:
    from .errors import INTERRUPTED
    print(INTERRUPTED, file=sys.stderr)
    sys.exit(130)

sys.exit(main())
