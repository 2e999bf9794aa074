"""Allow ``python -m glyphflow``."""

from glyphflow.cli import main

if __name__ == "__main__":
    main()
