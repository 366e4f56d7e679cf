"""The ``daogou`` command. Each module registers its subcommands on the group defined in ``base``.

Exit status: 0 clean; 3 imported with rejects (see the quarantine file); 1 failed; 2 usage error.
"""

from daogou.cli import catalog, generate, images, rec, search, serve  # noqa: F401  (registers the commands)
from daogou.cli.base import cli


def main() -> None:
    cli.main(prog_name="daogou", standalone_mode=True)


if __name__ == "__main__":
    main()
