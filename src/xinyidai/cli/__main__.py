"""``python -m xinyidai.cli`` is the ``xyd`` command."""

from xinyidai.command import main

main()
