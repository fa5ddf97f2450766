"""``python -m xinyidai.cli`` is the ``xyd`` command."""

from xinyidai.cli import main

main()
