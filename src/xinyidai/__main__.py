"""``python -m xinyidai`` is the ``xyd`` command."""

from xinyidai.command import main

main()
