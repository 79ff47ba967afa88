"""`python -m cors_audit`: the same command line as the `cors-audit` script."""

from cors_audit.cli import run

if __name__ == "__main__":
    run()
